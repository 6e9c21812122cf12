// Typed wrappers over the Tauri commands, one module per file of src-tauri/src/commands/. The
// types come from the Rust ones (../bindings.ts, generated); nothing here copies a Rust type.
export * from './errors';
export * from './models';
export * from './workers';
export * from './chat';
export * from './hub';
export * from './hub_settings';
export * from './library';
export * from './conversations';
export * from './presets';
export * from './personas';
export * from './server';
export * from './templates';
export * from './tools';
export * from './app';
