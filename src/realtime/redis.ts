import Redis from 'ioredis';

/**
 * A Redis connection that never buffers without bound: commands fail fast while disconnected
 * (no offline queue), and it reconnects by itself with a capped backoff.
 */
export function createRedis(url: string, name: string): Redis {
  return new Redis(url, {
    connectionName: name,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
    connectTimeout: 2000,
    commandTimeout: 2000,
    retryStrategy: (times) => Math.min(100 * times, 2000),
    reconnectOnError: () => true,
    lazyConnect: false,
  });
}
