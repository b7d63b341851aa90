/**
 * Defaults of `phenoface serve` (issue 6). They belong in `src/config.ts` with every other default;
 * they live here until the lead moves them, and nothing else in the server hard-codes a number.
 */

/** Limits and capacity of the web server. Every field is a bound on what one client can cost. */
export interface ServerConfig {
  /** Interface to listen on. Loopback by default: a hospital PC's screening tool is not a LAN service. */
  host: string;
  /** TCP port (0 = any free port). */
  port: number;
  /** Largest accepted photo, in bytes (issue 6: 20 MB). Phone photos are 2-12 MB. */
  maxFileBytes: number;
  /** Largest accepted photo, in pixels, read from the header before any pixel is decoded (issue 6: 50 MP). */
  maxPixels: number;
  /** Most photos in one request (issue 6: 10): one patient's photos, not a data set. */
  maxFiles: number;
  /** Screenings run at once. Each uses the model's threads; two suit a 2-core machine. */
  concurrency: number;
  /** Screenings that may wait (uploaded, queued) beyond those running; more get 503 with Retry-After. */
  queueSize: number;
  /**
   * Upload bytes held in memory by all admitted requests together; beyond it new uploads get 503.
   * Bounds RAM when every queued request carries ten 20 MB photos (10 x 10 x 20 MB would be 2 GB).
   */
  maxBufferedBytes: number;
  /** Whole-request deadline (slow uploads included), in milliseconds. */
  requestTimeoutMs: number;
  /** Shortest access token accepted, in characters (16 random hex characters = 64 bits). */
  minTokenLength: number;
}

/** The server's defaults. Frozen: spread into a new object to change anything. */
export const SERVER_DEFAULTS: Readonly<ServerConfig> = Object.freeze({
  host: '127.0.0.1',
  port: 8080,
  maxFileBytes: 20 * 1024 * 1024,
  maxPixels: 50_000_000,
  maxFiles: 10,
  concurrency: 2,
  queueSize: 8,
  maxBufferedBytes: 400 * 1024 * 1024,
  requestTimeoutMs: 120_000,
  minTokenLength: 16,
});
