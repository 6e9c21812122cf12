// Other machines running `sirocco worker` (src-tauri/src/commands/workers.rs).
import { invoke } from '@tauri-apps/api/core';
export type { DeviceMemory, WorkerReach, WorkerView } from '../bindings';
import type { WorkerView } from '../bindings';

export const workersList = () => invoke<WorkerView[]>('workers_list');
/** Checks the machine first: one that does not answer as a worker is not added. */
export const workerAdd = (endpoint: string) => invoke<WorkerView[]>('worker_add', { endpoint });
export const workerRemove = (endpoint: string) => invoke<WorkerView[]>('worker_remove', { endpoint });
/** From the next load on. */
export const workerSetEnabled = (endpoint: string, enabled: boolean) =>
  invoke<WorkerView[]>('worker_set_enabled', { endpoint, enabled });
