import { eventStoreContract } from '../event-store.contract.js';
import { MemoryEventStore } from './memory-event-store.js';

eventStoreContract('memory', (options) => {
  const store = new MemoryEventStore(options);
  return Promise.resolve({ store, cleanup: () => store.close() });
});
