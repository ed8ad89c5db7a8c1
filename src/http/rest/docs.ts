/**
 * @module http/rest/docs
 * `/openapi.json` and interactive docs at `/docs`, served entirely from this server: Swagger
 * UI's files come from the installed `swagger-ui-dist` package and its start-up script is a
 * file of ours, so the page renders offline under a CSP that allows only 'self'.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type { Reply } from '../responses.js';
import type { Route } from '../route.js';

const require = createRequire(import.meta.url);
const ASSET_DIR = dirname(require.resolve('swagger-ui-dist/package.json'));

const ASSETS: Record<string, string> = {
  'swagger-ui.css': 'text/css; charset=utf-8',
  'swagger-ui-bundle.js': 'application/javascript; charset=utf-8',
  'favicon-32x32.png': 'image/png',
};

const PAGE = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>realtime-event-pipeline API</title>
<link rel="stylesheet" href="/docs/assets/swagger-ui.css">
<link rel="icon" type="image/png" href="/docs/assets/favicon-32x32.png">
</head>
<body>
<div id="swagger-ui"></div>
<script src="/docs/assets/swagger-ui-bundle.js"></script>
<script src="/docs/assets/init.js"></script>
</body>
</html>
`;

const INIT = `window.ui = SwaggerUIBundle({
  url: '/openapi.json',
  dom_id: '#swagger-ui',
  presets: [SwaggerUIBundle.presets.apis],
  layout: 'BaseLayout',
  validatorUrl: null,
  deepLinking: true,
});
`;

const CACHE = { 'Cache-Control': 'public, max-age=3600' };

function docRoute(path: string, handle: () => Reply): Route {
  return {
    method: 'GET',
    path,
    versioned: false,
    rate: 'query',
    scope: null,
    body: false,
    documented: false,
    doc: { summary: '', tags: [], responses: {} },
    handle,
  };
}

export function docsRoutes(openapi: () => unknown): Route[] {
  const files = new Map<string, Reply>();
  for (const [name, contentType] of Object.entries(ASSETS)) {
    files.set(name, { status: 200, body: readFileSync(join(ASSET_DIR, name)), contentType, headers: CACHE });
  }
  files.set('init.js', { status: 200, body: INIT, contentType: 'application/javascript; charset=utf-8', headers: CACHE });
  let spec: string | undefined;
  return [
    docRoute('/openapi.json', () => ({ status: 200, body: (spec ??= JSON.stringify(openapi())) })),
    docRoute('/docs', () => ({ status: 200, body: PAGE, contentType: 'text/html; charset=utf-8' })),
    ...[...files].map(([name, reply]) => docRoute(`/docs/assets/${name}`, () => reply)),
  ];
}
