// The public `sql` namespace. The factories can be called with or without `new`, as
// psycopg's classes are: sql.SQL('...') and new sql.SQL('...') are the same.
import * as classes from './compose';

type Callable<C extends abstract new (...args: never[]) => unknown> = C & ((...args: ConstructorParameters<C>) => InstanceType<C>);

function callable<C extends new (...args: never[]) => unknown>(cls: C): Callable<C> {
  return new Proxy(cls, {
    apply: (target, _this, args: ConstructorParameters<C>) => new target(...args),
  }) as Callable<C>;
}

export const SQL = callable(classes.SQL);
export const Identifier = callable(classes.Identifier);
export const Literal = callable(classes.Literal);
export const Placeholder = callable(classes.Placeholder);
export const Composed = callable(classes.Composed);
export { Composable, SqlQuery, quoteIdent, query } from './compose';

export type SQL = classes.SQL;
export type Identifier = classes.Identifier;
export type Literal = classes.Literal;
export type Placeholder = classes.Placeholder;
export type Composed = classes.Composed;
