// What the features may know of the core and of the results it hands them: the shape of a
// result and its status, and which optional libpq features the linked libpq has. Features
// reach the core itself through the user's Connection, never the native handle.
import { native } from '../native';

export { ExecStatus } from '../native';
export type { NativeField, NativeResult } from '../native';

/** Whether the linked libpq has an optional feature ('chunkedRows', 'closePrepared', ...). */
export function libpqHas(feature: string): boolean {
  return native().hasFeature(feature);
}
