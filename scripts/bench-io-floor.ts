/**
 * The runtime's floor for light traffic: the CPU a process spends on nothing but the network pattern of a connector
 * at 1,000 events/s, with none of the sink's code (a benchmark, not a test).
 *   bun scripts/bench-io-floor.ts [--rate APPENDS_PER_SECOND] [--brokers N] [--seconds S]
 * A peer process pushes one message of ~2 KB (an append of 10 events on the subscription) every 1/rate seconds; for
 * each, this process writes one ~1.5 KB request to each of N peer sockets (the brokers that lead the records'
 * partitions) and waits for every ~100-byte answer, as a send with broker acks does. The figure is this process's
 * user + system CPU over the timed part; the peers run in their own process and are not counted. What the sink spends
 * at the same rate above this floor is its own code; what is below it, no code of ours can remove.
 */
import { connect, createServer, type Socket } from 'node:net'
import { startOwnCpuMeter } from './benchmark/measure.ts'

const options = new Map<string, string>()
for (let index = 2; index < process.argv.length; index += 2) options.set(process.argv[index]!, process.argv[index + 1] ?? '')
const rate = Number(options.get('--rate') ?? 100)
const brokers = Number(options.get('--brokers') ?? 3)
const seconds = Number(options.get('--seconds') ?? 10)
if (!(brokers >= 1)) throw new Error('--brokers must be at least 1: a send goes to one broker or more')
if (!(rate > 0) || !(seconds > 0)) throw new Error('--rate and --seconds must be positive numbers')
const appendBytes = 2_048
const requestBytes = 1_536
const answerBytes = 100

if (options.has('--peer')) await servePeers()
else await measure()

/** The other side: one source that pushes appends at the rate once told to start, and N brokers that answer each request. */
async function servePeers(): Promise<void> {
  const ports: number[] = []
  const listen = (onConnection: (socket: Socket) => void) =>
    new Promise<number>((resolve) => {
      const server = createServer(onConnection)
      server.listen(0, '127.0.0.1', () => resolve((server.address() as { port: number }).port))
    })
  ports.push(
    await listen((socket) => {
      socket.once('data', () => {
        const append = Buffer.alloc(appendBytes, 'a')
        const started = performance.now()
        let sent = 0
        const pushDue = () => {
          socket.write(append)
          sent++
          setTimeout(pushDue, Math.max(0, started + ((sent + 1) * 1_000) / rate - performance.now()))
        }
        pushDue()
      })
      socket.on('error', () => process.exit(0))
    }),
  )
  for (let broker = 0; broker < brokers; broker++) {
    ports.push(
      await listen((socket) => {
        const answer = Buffer.alloc(answerBytes, 'r')
        let pending = 0
        socket.on('data', (chunk) => {
          pending += chunk.length
          while (pending >= requestBytes) {
            pending -= requestBytes
            socket.write(answer)
          }
        })
        socket.on('error', () => {})
      }),
    )
  }
  console.log(ports.join(' '))
}

async function measure(): Promise<void> {
  const peer = Bun.spawn([process.execPath, import.meta.path, '--peer', '1', '--rate', String(rate), '--brokers', String(brokers)], { stdout: 'pipe', stderr: 'inherit' })
  try {
    const [sourcePort, ...brokerPorts] = (await firstLine(peer.stdout)).split(' ').map(Number)
    const brokerSockets = await Promise.all(brokerPorts.map((port) => connected(port)))
    const source = await connected(sourcePort!)
    const request = Buffer.alloc(requestBytes, 'q')
    const warmUp = Math.round(rate * 2)
    const timed = Math.max(1, Math.round(rate * seconds))
    let meter = startOwnCpuMeter()
    await new Promise<void>((done) => {
      // One append at a time, as a connector with broker acks sends one batch at a time; appends that arrive while a
      // send is out wait for it (at these rates none does).
      let appends = 0
      let buffered = 0
      let sending = false
      let outstanding = 0
      const answered = new Map<Socket, number>()
      const sendIfDue = () => {
        if (sending || buffered < appendBytes) return
        buffered -= appendBytes
        sending = true
        outstanding = brokerSockets.length
        for (const socket of brokerSockets) {
          answered.set(socket, 0)
          socket.write(request)
        }
      }
      const onAnswer = (socket: Socket, length: number) => {
        const before = answered.get(socket) ?? 0
        answered.set(socket, before + length)
        // A broker has answered when its bytes first reach a whole answer; the send is done when every broker has.
        if (before >= answerBytes || before + length < answerBytes || --outstanding > 0) return
        sending = false
        appends++
        if (appends === warmUp) meter = startOwnCpuMeter()
        if (appends === warmUp + timed) done()
        else sendIfDue()
      }
      for (const socket of brokerSockets) socket.on('data', (chunk: Buffer) => onAnswer(socket, chunk.length))
      source.on('data', (chunk: Buffer) => {
        buffered += chunk.length
        sendIfDue()
      })
      source.write('start')
    })
    const { usPerItem, cores } = meter.stop(timed)
    console.log(`${timed} appends at ${rate}/s, ${brokers} broker request(s) each: ${usPerItem} µs CPU per append, ${cores} cores`)
    for (const socket of [source, ...brokerSockets]) socket.destroy()
  } finally {
    peer.kill()
  }
}

function connected(port: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1', () => resolve(socket.setNoDelay(true)))
    socket.once('error', reject)
  })
}

async function firstLine(stream: ReadableStream<Uint8Array>): Promise<string> {
  const reader = stream.getReader()
  let text = ''
  while (!text.includes('\n')) {
    const { value, done } = await reader.read()
    if (done) throw new Error('the peer process ended before it listened')
    text += new TextDecoder().decode(value)
  }
  reader.releaseLock()
  return text.slice(0, text.indexOf('\n'))
}
