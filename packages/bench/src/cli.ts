console.log('chainz: not yet implemented');
