// The model the page starts with: ?weights=URL, else the library's default file beside kineto.js;
// ?threads=N fixes the engine's threads (the benchmark's 2), else they follow the core count.
// The single-file build (./build.sh single) swaps this module for web/single/model.js, which carries
// the weights and the engine's worker inline.
export const INLINE = false;

export function builtInModel(page) {
  const model = page.has('weights') ? { weightsUrl: page.get('weights') } : {};
  if (page.has('threads')) model.threads = Number(page.get('threads'));
  return model;
}
