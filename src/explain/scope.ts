/**
 * What the heat maps explain of a model's score, in words for the report, `screen` and the web app.
 */

/** Which network's embedding the maps follow (`only` it), and that the second network's is held at its training mean. */
export function secondNetworkClause(backbone: string, second: string, only = false): string {
  return `${backbone}'s embedding${only ? ' only' : ''}, with ${second}'s held at its training mean`;
}

/**
 * What part of the model's score the heat maps differentiate, or undefined when they differentiate
 * all of it (or the model has no embedding part, so no maps). The maps are the gradient of the
 * embedding block's part (`embeddingClassifier` in `features/fusion.ts`) at the backbone's 14x14
 * block: the other blocks' parts are left out (the regions block pools that same block, so its
 * path is not in the map), and so is a second network's half of the embedding block, held at its
 * training mean. `blocks` are the model's feature blocks (undefined: a classifier on the embedding).
 */
export function heatMapScope(blocks: readonly string[] | undefined, backbone: string, second: string | undefined): string | undefined {
  if (blocks && !blocks.includes('embedding')) return undefined;
  const others = (blocks ?? []).filter((b) => b !== 'embedding');
  if (!others.length) return second ? `The maps follow ${secondNetworkClause(backbone, second, true)}.` : undefined;
  const part = `the embedding block's part of the score only (not the ${others.join(' and ')} block${others.length > 1 ? "s'" : "'s"})`;
  return `The maps follow ${part}${second ? `, and in it ${secondNetworkClause(backbone, second)}` : ''}.`;
}
