// Test infrastructure, not product code: a real OpenID provider (the certified `oidc-provider`
// package) on a loopback port, for scim-seats' sign-in tests. Started by tests/api/idp.rs.
//
// Environment:
//   IDP_CLIENTS  JSON array of client registrations (client_id, client_secret, redirect_uris).
// Prints one line `{"issuer": "http://127.0.0.1:PORT"}` on stdout once it listens.
//
// Accounts: any login is an account whose `sub` and `email` are the login (lowercased);
// `email_verified` is false when the local part starts with "unverified", true otherwise;
// `name` is the local part. So a test names the person it needs.
//
// The person signs in on a plain form at /interaction/{uid} ("Email", button "Sign in");
// consent is granted at once (a first-party client, as an Okta or Entra admin would set it).
//
// Knobs for the tests (POST, answered 204), to make what no compliant provider sends:
//   /test/tamper?claim=aud|iss|exp|nonce|foreign-kid  the next ID token from /token is
//       re-signed with that claim wrong (foreign-kid: signed by a key never published)
//   /test/rotate        new signing key; the JWKS then holds the new and the old key
//   /test/jwks?down=1   the JWKS endpoint answers 503 (down=0 restores it)
import http from 'node:http';
import { randomUUID } from 'node:crypto';

import Provider from 'oidc-provider';
import * as jose from 'jose';

const clients = JSON.parse(process.env.IDP_CLIENTS || '[]');

let issuer; // known once listening
let keys = [await newKey()]; // first one signs
let provider;
let tamper = null;
let jwksDown = false;

async function newKey() {
  const { privateKey } = await jose.generateKeyPair('RS256', { extractable: true });
  const jwk = await jose.exportJWK(privateKey);
  return { ...jwk, kid: randomUUID(), alg: 'RS256', use: 'sig' };
}

function account(login) {
  const email = String(login).trim().toLowerCase();
  const local = email.split('@')[0];
  return {
    accountId: email,
    async claims() {
      return {
        sub: email,
        email,
        email_verified: !local.startsWith('unverified'),
        name: local,
      };
    },
  };
}

// A provider instance over the current keys; its storage (the memory adapter's module-level
// store) outlives the instance, so a rotation keeps sessions and grants.
function build() {
  const p = new Provider(issuer, {
    clients,
    jwks: { keys },
    cookies: { keys: ['test-idp-cookie-key'] },
    claims: { openid: ['sub'], email: ['email', 'email_verified'], profile: ['name'] },
    // Like Okta: the claims of the granted scopes are in the ID token itself.
    conformIdTokenClaims: false,
    features: { devInteractions: { enabled: false } },
    pkce: { required: () => true },
    findAccount: (_ctx, sub) => account(sub),
    interactions: { url: (_ctx, interaction) => `/interaction/${interaction.uid}` },
    renderError(ctx, out) {
      ctx.type = 'html';
      ctx.body = `<!doctype html><title>IdP error</title><h1>IdP error</h1><pre>${escape(JSON.stringify(out))}</pre>`;
    },
  });
  p.use(async (ctx, next) => {
    if (jwksDown && ctx.path === '/jwks') {
      ctx.status = 503;
      ctx.body = 'down';
      return;
    }
    await next();
    if (ctx.path === '/token' && tamper && ctx.body && ctx.body.id_token) {
      ctx.body = { ...ctx.body, id_token: await resign(ctx.body.id_token, tamper) };
      tamper = null;
    }
  });
  return p;
}

async function resign(idToken, claim) {
  const payload = jose.decodeJwt(idToken);
  let key = keys[0];
  const now = Math.floor(Date.now() / 1000);
  switch (claim) {
    case 'aud': payload.aud = 'someone-else'; break;
    case 'iss': payload.iss = 'http://127.0.0.1:1/not-the-issuer'; break;
    case 'exp': payload.iat = now - 7200; payload.exp = now - 3600; break;
    case 'nonce': payload.nonce = 'not-the-nonce-we-were-sent'; break;
    case 'foreign-kid': key = await newKey(); break;
    default: throw new Error(`unknown tamper ${claim}`);
  }
  const signing = await jose.importJWK(key, 'RS256');
  return new jose.SignJWT(payload)
    .setProtectedHeader({ alg: 'RS256', kid: key.kid, typ: 'JWT' })
    .sign(signing);
}

function escape(s) {
  return String(s).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

async function readForm(req) {
  let body = '';
  for await (const chunk of req) body += chunk;
  return new URLSearchParams(body);
}

async function interaction(req, res) {
  const url = new URL(req.url, issuer);
  const details = await provider.interactionDetails(req, res);
  const { uid, prompt, params } = details;
  if (req.method === 'POST' && url.pathname.endsWith('/login')) {
    const form = await readForm(req);
    const login = (form.get('login') || '').trim();
    if (!login) {
      res.writeHead(400, { 'content-type': 'text/html' });
      res.end('<!doctype html><p>Enter your email.</p>');
      return;
    }
    await provider.interactionFinished(req, res, { login: { accountId: login.toLowerCase() } }, { mergeWithLastSubmission: false });
    return;
  }
  if (prompt.name === 'consent') {
    const grant = details.grantId
      ? await provider.Grant.find(details.grantId)
      : new provider.Grant({ accountId: details.session.accountId, clientId: params.client_id });
    grant.addOIDCScope(String(params.scope));
    const grantId = await grant.save();
    await provider.interactionFinished(req, res, { consent: { grantId } }, { mergeWithLastSubmission: true });
    return;
  }
  res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
  res.end(`<!doctype html><html><head><title>Test IdP: sign in</title></head><body>
<h1>Test identity provider</h1>
<form method="post" action="/interaction/${escape(uid)}/login">
<label for="login">Email</label> <input id="login" name="login" type="email" autofocus>
<button type="submit">Sign in</button>
</form></body></html>`);
}

async function knob(req, res) {
  const url = new URL(req.url, issuer);
  if (req.method !== 'POST') { res.writeHead(405); res.end(); return; }
  if (url.pathname === '/test/tamper') {
    tamper = url.searchParams.get('claim');
  } else if (url.pathname === '/test/rotate') {
    keys = [await newKey(), ...keys];
    provider = build();
  } else if (url.pathname === '/test/jwks') {
    jwksDown = url.searchParams.get('down') === '1';
  } else {
    res.writeHead(404); res.end(); return;
  }
  res.writeHead(204);
  res.end();
}

const server = http.createServer((req, res) => {
  const path = req.url.split('?')[0];
  const handle = path.startsWith('/interaction/') ? interaction
    : path.startsWith('/test/') ? knob
    : (rq, rs) => provider.callback()(rq, rs);
  Promise.resolve(handle(req, res)).catch((err) => {
    console.error(err);
    if (!res.headersSent) { res.writeHead(500, { 'content-type': 'text/plain' }); }
    res.end(String(err && err.message));
  });
});

// Only the first line is read; whatever else lands on stdout must not kill us.
process.stdout.on('error', () => {});

server.listen(0, '127.0.0.1', () => {
  issuer = `http://127.0.0.1:${server.address().port}`;
  provider = build();
  process.stdout.write(`${JSON.stringify({ issuer })}\n`);
});

// The test process ends us by closing our stdin (or killing us).
process.stdin.on('end', () => process.exit(0));
process.stdin.resume();
