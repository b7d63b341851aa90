/**
 * `phenoface serve` with the fake screening service, as its own process (for the privacy test):
 * the real command code, argv and IO; only the service is fake. Usage: tsx serve-fake-main.ts <serve options>.
 */
import { processIO } from '../../src/cli/io.ts';
import { serveCommand } from '../../src/cli/serve.ts';
import { FakeScreenService } from './fake-service.ts';

process.stderr.write(`pid ${process.pid}\n`);
const code = await serveCommand({ loadService: async () => new FakeScreenService(), webRoot: process.env.PHENOFACE_WEB_ROOT })(process.argv.slice(2), processIO());
process.exit(code);
