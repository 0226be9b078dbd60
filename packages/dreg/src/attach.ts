import type * as tfl from '@tensorflow/tfjs-layers';
import { ConfigError } from '@chainz/core';
import type { LayerTrace, PolyConv2D, PolyDense } from '@chainz/poly-layer';
import { resolveDregOptions, type DregOptions } from './options';
import { dregLayerPenalty } from './penalty';

interface LayerLike {
  getClassName(): string;
  name?: string;
  layers?: LayerLike[];
}

/** A layer that can carry a trace penalty: PolyDense or PolyConv2D. */
type PenaltyLayer = PolyDense | PolyConv2D;

function isPolyDense(layer: LayerLike): layer is LayerLike & PenaltyLayer {
  // duck-typed, so that a second copy of @chainz/poly-layer in the graph still matches
  const name = layer.getClassName();
  return (name === 'ChainzPolyDense' || name === 'ChainzPolyConv2D') && typeof (layer as Partial<PolyDense>).setTracePenalty === 'function';
}

function collect(layers: LayerLike[], out: PenaltyLayer[], uncovered: LayerLike[] = []): void {
  for (const layer of layers) {
    if (isPolyDense(layer)) out.push(layer);
    else if (layer.getClassName() === 'ChainzPolyActivation') uncovered.push(layer);
    else if (Array.isArray(layer.layers)) collect(layer.layers, out, uncovered);
  }
}

/**
 * Attaches the DREG penalty to every `PolyDense` and `PolyConv2D` layer of a tfjs-layers model
 * (nested models included, in `model.layers` order) so that `model.fit()` trains
 * with it.
 *
 * How it works (tfjs-layers 4.22): each PolyDense layer registered a loss
 * closure with `Layer.addLoss` when it was built. In a training call
 * (`training: true`, which `fit` passes) the layer computes its term
 * λ(t)·w_l·mean_batch(R_l)/n_l from its forward trace; `LayersModel`'s training
 * step then calls `calculateLosses()` — after the forward pass, inside the same
 * `optimizer.minimize` closure — and adds every layer loss to the total loss. So
 * the gradient of the penalty reaches the weights, and **the `loss` that `fit`
 * reports (history / callbacks) includes the penalty**. `evaluate()`, validation
 * losses and `predict()` do not (no training call). λ's schedule step t is the
 * number of training steps the layer has taken with the penalty attached.
 *
 * The sum over layers equals {@link dregPenalty} on the same traces. The
 * `forward` variant chains tangents across layers and is not available here
 * (use a hand-written step with dregPenalty).
 *
 * The penalty is a training setting, not saved with the model: attach it again
 * after `loadModel`.
 *
 * A standalone `PolyActivation` layer (after a tfjs Dense, say) is not
 * covered — the penalty needs the layer's weight matrix — and rather than
 * leaving it out silently, `attachDreg` refuses such a model: use `PolyDense`
 * in place of Dense + PolyActivation, or pass the layers to cover
 * (`model.layers.filter(…)`).
 *
 * @param model a LayersModel (or an array of layers).
 * @param options DREG options; `layerWeights` (if given) has one weight per PolyDense/PolyConv2D layer.
 * @returns the layers that received the penalty (what the penalty covers), in order.
 * @throws ConfigError naming `variant` (forward), `layerWeights` (wrong length) or
 *   `model` (no PolyDense/PolyConv2D layer found, or PolyActivation layers it
 *   would not cover), or any invalid option.
 */
export function attachDreg(model: tfl.LayersModel | tfl.layers.Layer[], options: Partial<DregOptions> = {}): PenaltyLayer[] {
  const o = resolveDregOptions(options);
  if (o.variant === 'forward') {
    throw new ConfigError("the 'forward' variant chains tangents across layers; with model.fit use 'frobenius', 'activation' or 'hinge'", { option: 'variant' });
  }
  const layers: PenaltyLayer[] = [];
  const uncovered: LayerLike[] = [];
  collect((Array.isArray(model) ? model : model.layers) as unknown as LayerLike[], layers, uncovered);
  if (uncovered.length > 0) {
    const names = uncovered.map((l) => `'${l.name ?? '?'}'`).join(', ');
    throw new ConfigError(
      `DREG covers PolyDense and PolyConv2D layers (its penalty needs the layer's weight matrix); PolyActivation layer${uncovered.length > 1 ? 's' : ''} ${names} would get none`,
      { option: 'model' },
      "use PolyDense in place of Dense + PolyActivation, or attach to the other layers only: attachDreg(model.layers.filter((l) => l.getClassName() !== 'ChainzPolyActivation'), options)",
    );
  }
  if (layers.length === 0) throw new ConfigError('the model has no PolyDense or PolyConv2D layer to attach DREG to', { option: 'model' });
  if (o.layerWeights && o.layerWeights.length !== layers.length) {
    throw new ConfigError(`has ${o.layerWeights.length} weights for ${layers.length} PolyDense/PolyConv2D layers`, { option: 'layerWeights' });
  }
  layers.forEach((layer, l) => {
    const w = o.layerWeights ? o.layerWeights[l] : 1;
    const penalty = (trace: LayerTrace, step: number) => dregLayerPenalty(trace, o, step, w);
    // jacobianNorm: dense layers take ‖J‖_F² from the fused activation kernel (frobenius only)
    layer.setTracePenalty(penalty, { secondDerivative: o.curvature > 0, jacobianNorm: o.variant === 'frobenius' });
  });
  return layers;
}

/** Removes the penalty from every PolyDense/PolyConv2D layer of the model. @returns the layers changed. */
export function detachDreg(model: tfl.LayersModel | tfl.layers.Layer[]): PenaltyLayer[] {
  const layers: PenaltyLayer[] = [];
  collect((Array.isArray(model) ? model : model.layers) as unknown as LayerLike[], layers);
  for (const layer of layers) layer.setTracePenalty(null);
  return layers;
}
