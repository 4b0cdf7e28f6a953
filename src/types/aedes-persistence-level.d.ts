/** aedes-persistence-level ships no types: a persistence for aedes backed by a `level` database. */
declare module 'aedes-persistence-level' {
  /** The persistence aedes expects (`Aedes.createBroker({ persistence })`); `destroy()` closes the database. */
  interface LevelPersistence {
    destroy(cb?: (err?: Error) => void): Promise<void> | void;
  }
  function aedesPersistenceLevel(db: unknown): LevelPersistence;
  export default aedesPersistenceLevel;
}
