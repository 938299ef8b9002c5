/**
 * The server side of `bulwark bench limit`: the replicas' transport and codec with no
 * consensus — it decodes each REQUEST and answers a REPLY at once. Run as its own
 * process: `node --import tsx src/cli/echo-server.ts <pkiDir> <replicaId> <port> <replyBytes>`.
 */
import { decodeMessage, encodeMessage } from '../core/codec.ts';
import { MessageType } from '../core/messages.ts';
import { SINGLE_LEAF } from '../core/merkle.ts';
import { TlsServer } from '../host/transport/index.ts';
import { loadIdentity } from '../security/pki.ts';

const [pkiDir, idText, portText, replyBytesText] = process.argv.slice(2);
const id = Number(idText);
const reply = new Uint8Array(Number(replyBytesText ?? 0));
const quiet = { debug() {}, info() {}, warn() {} };
const signature = new Uint8Array(64);
const server = new TlsServer(loadIdentity(pkiDir!, 'replica', id), {
  logger: quiet,
  onFrame: (_principal, frame, connection) => {
    const d = decodeMessage(frame);
    if (!d.ok || d.message.type !== MessageType.REQUEST) return;
    const m = d.message;
    connection.send(encodeMessage({ type: MessageType.REPLY, replicaId: id, clientId: m.clientId, session: m.session, seq: m.seq, ordered: m.ordered, result: reply, proof: SINGLE_LEAF, signature }));
  },
});
await server.listen(Number(portText));
process.stdout.write('ready\n');
process.once('SIGTERM', () => void server.close().then(() => process.exit(0)));
// Never outlive the benchmark that started us.
const parent = process.ppid;
setInterval(() => {
  if (process.ppid !== parent) process.exit(0);
}, 500).unref();
