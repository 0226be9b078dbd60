import { BackendError } from '@chainz/core';

/**
 * Import an optional peer dependency on demand (`await import(name)`).
 * @param what what needs it, for the message (e.g. "createUseLiteEncoder").
 * @param install the install command to suggest.
 * @throws BackendError saying how to install the package when it is missing;
 *   other load errors are wrapped with the package name.
 * @internal
 */
export async function importOptional<T>(name: string, load: () => Promise<T>, what: string, install: string): Promise<T> {
  try {
    return await load();
  } catch (e) {
    const code = (e as { code?: string }).code;
    const msg = (e as Error)?.message ?? String(e);
    if ((code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND' || /Cannot find (module|package)/.test(msg)) && msg.includes(name)) {
      throw new BackendError(`${what} needs the optional package '${name}', which is not installed`, `install it: ${install}`, { cause: e });
    }
    throw new BackendError(`${what}: loading '${name}' failed: ${msg}`, undefined, { cause: e });
  }
}
