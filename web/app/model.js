// The model the page starts with: ?weights=URL, else the library's default file beside kineto.js.
// The single-file build (./build.sh single) swaps this module for web/single/model.js, which carries
// the weights and the engine's worker inline.
export const INLINE = false;

export function builtInModel(page) {
  return page.has('weights') ? { weightsUrl: page.get('weights') } : {};
}
