// A kafkajs consumer group member for CrossClientGroupsIT.
// Usage: node kafkajs_group.js BOOTSTRAP TOPIC GROUP EXPECTED_RECORDS TIMEOUT_SECONDS
// Reads until EXPECTED_RECORDS arrived (or the timeout), commits, prints one JSON line
// {"records": n, "values": [...], "committed": {"partition": offset}} and disconnects (leaving the group).
const { Kafka, logLevel } = require('kafkajs');

const [bootstrap, topic, group, expectedArg, timeoutArg] = process.argv.slice(2);
const expected = parseInt(expectedArg, 10);
const kafka = new Kafka({ clientId: 'kafkajs-it', brokers: [bootstrap], logLevel: logLevel.WARN });
const consumer = kafka.consumer({ groupId: group, sessionTimeout: 10000, heartbeatInterval: 1000 });
const admin = kafka.admin();
const values = [];

async function main() {
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  let done;
  const finished = new Promise((resolve) => { done = resolve; });
  const timer = setTimeout(done, parseFloat(timeoutArg) * 1000);
  await consumer.run({
    autoCommit: false,
    eachMessage: async ({ partition, message }) => {
      values.push(message.value.toString());
      await consumer.commitOffsets([{ topic, partition, offset: (BigInt(message.offset) + 1n).toString() }]);
      if (values.length >= expected) done();
    },
  });
  await finished;
  clearTimeout(timer);
  await consumer.stop();
  await admin.connect();
  const offsets = await admin.fetchOffsets({ groupId: group, topics: [topic] });
  const committed = {};
  for (const t of offsets) for (const p of t.partitions) committed[String(p.partition)] = parseInt(p.offset, 10);
  console.log(JSON.stringify({ records: values.length, values, committed }));
  await admin.disconnect();
  await consumer.disconnect();
}

main().then(() => process.exit(0)).catch((e) => { console.error(e); process.exit(1); });
