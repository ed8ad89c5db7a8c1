import { busContract } from '../bus.contract.js';
import { LocalBus } from './local-bus.js';

busContract(
  'local',
  (_store, nodes) => {
    const buses = Array.from({ length: nodes }, () => new LocalBus(() => undefined));
    return Promise.resolve({ buses, cleanup: async () => {
        await Promise.all(buses.map((b) => b.close()));
      } });
  },
  { nodes: 1 },
);
