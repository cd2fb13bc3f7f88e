import { runApp } from '@ragnest/runtime';
import { ApiModule } from './app.module.js';
import { configureHttp } from './http.setup.js';

await runApp({
  name: 'api',
  kind: 'http',
  module: (config) => ApiModule.forRoot(config),
  configureHttp,
  readyMessage: (c) => `RagNest API ready on http://${c.http.host === '0.0.0.0' ? '127.0.0.1' : c.http.host}:${c.http.port}`,
});
