// The timeline of a log: the model (./model.ts), its builder (./build.ts) and the Perfetto
// writer (./perfetto.ts). Nothing here imports a node: module (the HTML viewer bundles it).

export type * from './model.ts';
export { buildTimeline, TimelineBuilder } from './build.ts';
