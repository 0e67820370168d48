/**
 * The contracts every deployable agrees on: the todo and the command envelope, ids,
 * cursors and positions, errors, the cache's keys, entries, change sets and Redis
 * scripts, and the page query. Nothing here loads a client library: platform code
 * (config, logging, metrics, Kafka, migrations, topics) has subpaths of its own
 * (package.json "exports"), so each deployable loads only what it uses.
 */
export * from "./cache-entry";
export * from "./cache-keys";
export * from "./cache-scripts";
export * from "./change-set";
export * from "./command";
export * from "./cursor";
export * from "./errors";
export * from "./hot-entries";
export * from "./ids";
export * from "./page-index";
export * from "./position";
export * from "./read-model";
export * from "./refresh";
export * from "./todo";
