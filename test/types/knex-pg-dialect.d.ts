// knex ships no types for its dialect modules; the tests subclass this one.
declare module 'knex/lib/dialects/postgres' {
  import type { Knex } from 'knex';

  const ClientPG: typeof Knex.Client;
  export default ClientPG;
}
