// The geometric types as plain objects of numbers, read from the server's output:
//   point '(1,2)'   line '{1,-1,0}'   lseg '[(1,2),(3,4)]'   box '(3,4),(1,2)'
//   path '[(1,2),(3,4)]' (open) or '((1,2),(3,4))' (closed)   polygon '((1,2),(3,4))'
//   circle '<(1,2),3>'
// Coordinates are float8, so NaN and ±Infinity may appear. To send one, pass its text
// ('(1,2)') and let the server read it as the column's type.
import { DataError } from '../errors';

export interface Point {
  x: number;
  y: number;
}

/** the line a·x + b·y + c = 0 */
export interface Line {
  a: number;
  b: number;
  c: number;
}

export interface Path {
  closed: boolean;
  points: Point[];
}

export interface Circle {
  x: number;
  y: number;
  radius: number;
}

const NUMBER = /[-+]?(?:NaN|Infinity|(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?)/g;

function numbers(text: string, type: string, count?: number): number[] {
  const found = text.match(NUMBER) ?? [];
  // everything else must be punctuation: a stray letter means this is not the type's text
  if (text.replace(NUMBER, '').replace(/[\s(),[\]{}<>]/g, '') !== '' || (count !== undefined && found.length !== count) || found.length % 2 !== (count ?? 0) % 2) {
    throw new DataError(`malformed ${type} ${JSON.stringify(text)}`);
  }
  return found.map(Number);
}

function points(values: number[]): Point[] {
  const out: Point[] = [];
  for (let i = 0; i < values.length; i += 2) out.push({ x: values[i], y: values[i + 1] });
  return out;
}

/** point '(x,y)' → { x, y } */
export function parsePoint(text: string): Point {
  const [x, y] = numbers(text, 'point', 2);
  return { x, y };
}

/** line '{a,b,c}' → { a, b, c } */
export function parseLine(text: string): Line {
  const [a, b, c] = numbers(text, 'line', 3);
  return { a, b, c };
}

/** lseg '[(x1,y1),(x2,y2)]' → [p1, p2] */
export function parseLseg(text: string): [Point, Point] {
  const [p1, p2] = points(numbers(text, 'lseg', 4));
  return [p1, p2];
}

/** box '(x1,y1),(x2,y2)' → [upper right, lower left] as the server orders them */
export function parseBox(text: string): [Point, Point] {
  const [p1, p2] = points(numbers(text, 'box', 4));
  return [p1, p2];
}

/** path '[...]' (open) or '(...)' (closed) → { closed, points } */
export function parsePath(text: string): Path {
  const values = numbers(text, 'path');
  if (values.length === 0) throw new DataError(`malformed path ${JSON.stringify(text)}`);
  return { closed: text.trimStart()[0] !== '[', points: points(values) };
}

/** polygon '((x1,y1),...)' → points */
export function parsePolygon(text: string): Point[] {
  const values = numbers(text, 'polygon');
  if (values.length === 0) throw new DataError(`malformed polygon ${JSON.stringify(text)}`);
  return points(values);
}

/** circle '<(x,y),r>' → { x, y, radius } */
export function parseCircle(text: string): Circle {
  const [x, y, radius] = numbers(text, 'circle', 3);
  return { x, y, radius };
}
