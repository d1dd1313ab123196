// The geometric types, read from the server's output:
//   point '(1,2)'   line '{1,-1,0}'   lseg '[(1,2),(3,4)]'   box '(3,4),(1,2)'
//   path '[(1,2),(3,4)]' (open) or '((1,2),(3,4))' (closed)   polygon '((1,2),(3,4))'
//   circle '<(1,2),3>'
// Coordinates are float8, so NaN and ±Infinity may appear.
//
// Each is a small class of numbers (a point has own properties x and y, nothing else; an
// lseg, a box and a polygon are arrays of points) that knows its text, so that a value read
// goes back as it came, untyped for the context to read (`box_col = $1`, `p ~= $1`), and
// one can be made to send: `new Point(1, 2)`. A plain { x, y } goes as JSON, as any object.
import { DataError } from '../errors';
import { TO_POSTGRES, type PostgresText, type ToPostgres } from '../adapt/to-postgres';
import { formatFloat } from './numeric';

function pointText(point: Point): string {
  return `(${formatFloat(point.x)},${formatFloat(point.y)})`;
}

function pointsText(points: readonly Point[]): string {
  let text = '';
  for (let i = 0; i < points.length; i++) text += (i === 0 ? '' : ',') + pointText(points[i]);
  return text;
}

function untyped(text: string): PostgresText {
  return { text, oid: 0 };
}

/** What a Point can be made of. */
export interface PointLike {
  x: number;
  y: number;
}

/** The points given, as Points, appended to `out`; a count checked when the type has one. */
function asPoints(points: Iterable<PointLike>, type: string, out: Point[] = [], count?: number): Point[] {
  for (const point of points) {
    if (point === null || typeof point !== 'object' || typeof point.x !== 'number' || typeof point.y !== 'number') {
      throw new DataError(`a ${type} is made of points ({ x, y } of numbers)`);
    }
    out.push(point instanceof Point ? point : new Point(point.x, point.y));
  }
  if (count !== undefined && out.length !== count) throw new DataError(`a ${type} is made of ${count} points, got ${out.length}`);
  return out;
}

export class Point implements ToPostgres {
  constructor(
    public x: number,
    public y: number,
  ) {}

  [TO_POSTGRES](): PostgresText {
    return untyped(pointText(this));
  }
}

/** the line a·x + b·y + c = 0 */
export class Line implements ToPostgres {
  constructor(
    public a: number,
    public b: number,
    public c: number,
  ) {}

  [TO_POSTGRES](): PostgresText {
    return untyped(`{${formatFloat(this.a)},${formatFloat(this.b)},${formatFloat(this.c)}}`);
  }
}

/** Arrays of points that are one geometric value: map, filter, slice make plain arrays. */
abstract class PointArray extends Array<Point> implements ToPostgres {
  static override get [Symbol.species](): ArrayConstructor {
    return Array;
  }

  abstract [TO_POSTGRES](): PostgresText;
}

/** A line segment: its two end points. */
export class Lseg extends PointArray {
  constructor(points: Iterable<PointLike> = []) {
    super();
    asPoints(points, 'lseg', this, 2);
  }

  [TO_POSTGRES](): PostgresText {
    return untyped(`[${pointsText(this)}]`);
  }
}

/** A box: two opposite corners, the upper right first as the server stores it. */
export class Box extends PointArray {
  constructor(points: Iterable<PointLike> = []) {
    super();
    asPoints(points, 'box', this, 2);
  }

  [TO_POSTGRES](): PostgresText {
    return untyped(pointsText(this));
  }
}

/** A polygon: its points in order. */
export class Polygon extends PointArray {
  constructor(points: Iterable<PointLike> = []) {
    super();
    asPoints(points, 'polygon', this);
  }

  [TO_POSTGRES](): PostgresText {
    return untyped(`(${pointsText(this)})`);
  }
}

export class Path implements ToPostgres {
  points: Point[];

  constructor(
    points: Iterable<PointLike>,
    public closed = false,
  ) {
    this.points = asPoints(points, 'path');
  }

  [TO_POSTGRES](): PostgresText {
    const points = pointsText(this.points);
    return untyped(this.closed ? `(${points})` : `[${points}]`);
  }
}

export class Circle implements ToPostgres {
  constructor(
    public x: number,
    public y: number,
    public radius: number,
  ) {}

  [TO_POSTGRES](): PostgresText {
    return untyped(`<(${formatFloat(this.x)},${formatFloat(this.y)}),${formatFloat(this.radius)}>`);
  }
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
  for (let i = 0; i < values.length; i += 2) out.push(new Point(values[i], values[i + 1]));
  return out;
}

/** point '(x,y)' → Point { x, y } */
export function parsePoint(text: string): Point {
  const [x, y] = numbers(text, 'point', 2);
  return new Point(x, y);
}

/** line '{a,b,c}' → Line { a, b, c } */
export function parseLine(text: string): Line {
  const [a, b, c] = numbers(text, 'line', 3);
  return new Line(a, b, c);
}

/** lseg '[(x1,y1),(x2,y2)]' → Lseg [p1, p2] */
export function parseLseg(text: string): Lseg {
  return new Lseg(points(numbers(text, 'lseg', 4)));
}

/** box '(x1,y1),(x2,y2)' → Box [upper right, lower left] as the server orders them */
export function parseBox(text: string): Box {
  return new Box(points(numbers(text, 'box', 4)));
}

/** path '[...]' (open) or '(...)' (closed) → Path { closed, points } */
export function parsePath(text: string): Path {
  const values = numbers(text, 'path');
  if (values.length === 0) throw new DataError(`malformed path ${JSON.stringify(text)}`);
  return new Path(points(values), text.trimStart()[0] !== '[');
}

/** polygon '((x1,y1),...)' → Polygon [points] */
export function parsePolygon(text: string): Polygon {
  const values = numbers(text, 'polygon');
  if (values.length === 0) throw new DataError(`malformed polygon ${JSON.stringify(text)}`);
  return new Polygon(points(values));
}

/** circle '<(x,y),r>' → Circle { x, y, radius } */
export function parseCircle(text: string): Circle {
  const [x, y, radius] = numbers(text, 'circle', 3);
  return new Circle(x, y, radius);
}
