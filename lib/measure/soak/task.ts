/**
 * The soak as an isolated child runs it: every window reported to the parent as it ends.
 */
import type { Task } from '../../isolate/protocol.js';
import { soak, type SoakOptions } from './soak.js';

export const soakTask: Task = (item, { model, progress }) => soak(model!, { ...(item as SoakOptions), onWindow: (w) => void progress(w) });
