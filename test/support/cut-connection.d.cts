import type { Socket } from 'node:net';

/** Resets `socket`, or destroys it when its shutdown is in flight (see cut-connection.cjs). */
export declare function cutConnection(socket: Socket): void;
