#!/usr/bin/env node
// Requests lost per reload under a steady load: paddock vs Gunicorn.
// For each subject: start it, run autocannon (keep-alive, bounded time) on /io?ms=20,
// send HUP (then TTIN/TTOU) every second, and classify every failed request.
// Usage: node bench/reload.mjs   (BENCH_RELOADS=5, BENCH_CONNECTIONS=50)
import { spawn, spawnSync } from 'node:child_process'
import net from 'node:net'
import { join } from 'node:path'
import autocannon from 'autocannon'
import { fileURLToPath } from 'node:url'

const root = fileURLToPath(new URL('..', import.meta.url))
const reloads = Number(process.env.BENCH_RELOADS ?? 5)
const connections = Number(process.env.BENCH_CONNECTIONS ?? 50)
const demo = join(root, 'resources/demo/app.mjs')
const sleep = (ms) => new Promise((r) => setTimeout(r, ms))

const subjects = [
  { name: 'paddock sync', cmd: (p) => ['node', [join(root, 'bin/paddock.mjs'), '-w', '2', '-k', 'sync', '-b', `127.0.0.1:${p}`, '--no-control-socket', demo]] },
  { name: 'paddock gthread', cmd: (p) => ['node', [join(root, 'bin/paddock.mjs'), '-w', '2', '-k', 'gthread', '--threads', '4', '-b', `127.0.0.1:${p}`, '--no-control-socket', demo]] },
  { name: 'paddock async', cmd: (p) => ['node', [join(root, 'bin/paddock.mjs'), '-w', '2', '-k', 'async', '-b', `127.0.0.1:${p}`, '--no-control-socket', demo]] },
  { name: 'gunicorn sync', cmd: (p) => ['gunicorn', ['-w', '2', '-k', 'sync', '-b', `127.0.0.1:${p}`, '--chdir', join(root, 'bench/apps'), 'demo_wsgi:app']] },
  { name: 'gunicorn gthread', cmd: (p) => ['gunicorn', ['-w', '2', '-k', 'gthread', '--threads', '4', '-b', `127.0.0.1:${p}`, '--chdir', join(root, 'bench/apps'), 'demo_wsgi:app']] },
].filter((s) => !process.env.BENCH_SUBJECTS || process.env.BENCH_SUBJECTS.split(',').some((o) => s.name.includes(o)))

function freePort() {
  return new Promise((resolve) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address()
      s.close(() => resolve(port))
    })
  })
}

function answers(port) {
  return new Promise((resolve) => {
    const s = net.connect(port, '127.0.0.1', () => s.end('GET / HTTP/1.0\r\n\r\n'))
    s.on('data', () => { s.destroy(); resolve(true) })
    s.on('error', () => resolve(false))
  })
}

async function measure(subject) {
  const port = await freePort()
  const [cmd, args] = subject.cmd(port)
  const child = spawn(cmd, args, { cwd: root, stdio: ['ignore', 'ignore', 'pipe'] })
  let log = ''
  child.stderr.on('data', (d) => (log += d))
  try {
    const deadline = Date.now() + 20_000
    while (!(await answers(port))) {
      if (child.exitCode !== null || Date.now() > deadline) throw new Error(`not answering:\n${log}`)
      await sleep(100)
    }
    await sleep(1000)
    const errors = { reset: 0, refused: 0, timeout: 0, other: 0 }
    const instance = autocannon({ url: `http://127.0.0.1:${port}/io?ms=20`, connections, duration: reloads * 2 * 2 + 2, timeout: 5 })
    instance.on('reqError', (err) => {
      const code = err?.code ?? ''
      if (code === 'ECONNRESET' || code === 'EPIPE' || /hang up|closed/i.test(err?.message ?? '')) errors.reset++
      else if (code === 'ECONNREFUSED') errors.refused++
      else if (code === 'UND_ERR_HEADERS_TIMEOUT' || /timeout/i.test(err?.message ?? '')) errors.timeout++
      else errors.other++
    })
    const signals = [...Array(reloads).fill('SIGHUP'), ...Array(reloads).flatMap(() => ['SIGTTIN', 'SIGTTOU'])]
    await sleep(1000)
    for (const sig of signals) {
      child.kill(sig)
      await sleep(sig === 'SIGHUP' ? 2000 : 1000)
    }
    const result = await instance
    return { subject: subject.name, requests: result.requests.total, non2xx: result.non2xx, errors, errorsTotal: result.errors, timeouts: result.timeouts }
  } finally {
    if (child.exitCode === null) {
      const exited = new Promise((r) => child.once('exit', r))
      child.kill('SIGTERM')
      const t = setTimeout(() => child.kill('SIGKILL'), 10_000)
      await exited
      clearTimeout(t)
    }
  }
}

const rows = []
for (const subject of subjects) {
  if (subject.name.startsWith('gunicorn') && spawnSync('sh', ['-c', 'command -v gunicorn']).status !== 0) continue
  try {
    const r = await measure(subject)
    rows.push(r)
    console.log(`${subject.name.padEnd(18)} requests ${r.requests}  failed ${r.errorsTotal + r.non2xx} (reset ${r.errors.reset}, refused ${r.errors.refused}, timeout ${r.errors.timeout}, other ${r.errors.other}, non-2xx ${r.non2xx}) over ${reloads} HUP + ${reloads} TTIN/TTOU`)
  } catch (err) {
    console.log(`${subject.name.padEnd(18)} failed to run: ${err.message.split('\n')[0]}`)
  }
}
