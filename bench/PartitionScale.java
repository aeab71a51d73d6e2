import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.CreateTopicsOptions;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.Node;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.TopicPartitionInfo;
import org.apache.kafka.common.errors.TopicExistsException;
import org.apache.kafka.common.message.MetadataRequestData;
import org.apache.kafka.common.message.MetadataResponseData;
import org.apache.kafka.common.protocol.ApiKeys;
import org.apache.kafka.common.protocol.ByteBufferAccessor;
import org.apache.kafka.common.requests.MetadataRequest;
import org.apache.kafka.common.requests.RequestHeader;
import org.apache.kafka.common.requests.ResponseHeader;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;

/**
 * The client side of bench/partition-scale.sh: creates topics of 10 partitions with RF 3 through Kafka's Admin client,
 * waits until every partition has a leader, produces and reads back 10 records per partition, and waits until a given
 * node is in every partition's ISR again. Works against any Kafka-protocol cluster. Every wait is bounded; each step
 * prints one {@code RESULT key=value ...} line. Run as a single-file program on the node's runtime classpath:
 * {@code java -cp "$(cat node/target/classpath.txt)" bench/PartitionScale.java STEP BOOTSTRAP PARTITIONS PREFIX [...]}.
 */
public final class PartitionScale {
    private static final int PARTITIONS_PER_TOPIC = 10;
    private static final int RECORDS_PER_PARTITION = 10;

    public static void main(String[] args) throws Exception {
        if (args.length < 4) {
            System.err.println("usage: PartitionScale create|led|produce|insync BOOTSTRAP PARTITIONS PREFIX"
                    + " [TIMEOUT_S] [NODE_ID]");
            System.exit(2);
        }
        String step = args[0];
        String bootstrap = args[1];
        int partitions = Integer.parseInt(args[2]);
        String prefix = args[3];
        long timeoutMs = TimeUnit.SECONDS.toMillis(args.length > 4 ? Long.parseLong(args[4]) : 300);
        List<String> topics = new ArrayList<>();
        for (int i = 0; i < (partitions + PARTITIONS_PER_TOPIC - 1) / PARTITIONS_PER_TOPIC; i++) {
            topics.add(String.format("%s-%04d", prefix, i));
        }
        switch (step) {
            case "create" -> create(bootstrap, topics, timeoutMs);
            case "led" -> awaitLed(bootstrap, topics, timeoutMs);
            case "produce" -> produceAndRead(bootstrap, topics, timeoutMs);
            case "insync" -> awaitInSync(bootstrap, topics, Integer.parseInt(args[5]), timeoutMs);
            default -> throw new IllegalArgumentException("unknown step " + step);
        }
    }

    private static Admin admin(String bootstrap) {
        Properties p = new Properties();
        p.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        p.put(AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG, 30_000);
        p.put(AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, 60_000);
        return Admin.create(p);
    }

    /**
     * One CreateTopics call per topic, all issued at once, as a script creating topics would; the topics whose call
     * failed (a timeout, say) are created again, all at once, until every topic exists or the time is up. A topic
     * that already exists counts as created.
     */
    private static void create(String bootstrap, List<String> topics, long timeoutMs) throws Exception {
        long start = System.nanoTime();
        long deadline = start + TimeUnit.MILLISECONDS.toNanos(timeoutMs);
        Map<String, Integer> firstErrors = new HashMap<>();
        List<String> missing = new ArrayList<>(topics);
        int rounds = 0;
        try (Admin admin = admin(bootstrap)) {
            while (!missing.isEmpty() && System.nanoTime() - deadline < 0) {
                rounds++;
                Map<String, Future<Void>> calls = new HashMap<>();
                for (String t : missing) {
                    calls.put(t, admin.createTopics(List.of(new NewTopic(t, PARTITIONS_PER_TOPIC, (short) 3)),
                            new CreateTopicsOptions().timeoutMs(30_000)).all());
                }
                List<String> failed = new ArrayList<>();
                for (Map.Entry<String, Future<Void>> call : calls.entrySet()) {
                    String error = null;
                    try {
                        call.getValue().get(Math.max(1, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
                    } catch (ExecutionException e) {
                        if (!(e.getCause() instanceof TopicExistsException)) {
                            error = e.getCause().getClass().getSimpleName();
                        }
                    } catch (java.util.concurrent.TimeoutException e) {
                        error = "ToolTimeout";
                    }
                    if (error != null) {
                        failed.add(call.getKey());
                        if (rounds == 1) {
                            firstErrors.merge(error, 1, Integer::sum);
                        }
                    }
                }
                missing = failed;
            }
        }
        System.out.printf("RESULT step=create topics=%d created=%d rounds=%d first_round_errors=%s create_ms=%d%n",
                topics.size(), topics.size() - missing.size(), rounds,
                firstErrors.isEmpty() ? "none" : firstErrors.toString().replace(" ", ""), millisSince(start));
    }

    /** Polls DescribeTopics until every partition has a leader; prints how many were led at the end. */
    private static void awaitLed(String bootstrap, List<String> topics, long timeoutMs) throws Exception {
        long start = System.nanoTime();
        int total = topics.size() * PARTITIONS_PER_TOPIC;
        int led = 0;
        try (Admin admin = admin(bootstrap)) {
            while (millisSince(start) < timeoutMs) {
                led = 0;
                for (var f : admin.describeTopics(topics).topicNameValues().values()) {
                    try {
                        for (TopicPartitionInfo p : f.get(30, TimeUnit.SECONDS).partitions()) {
                            if (p.leader() != null && p.leader().id() >= 0) {
                                led++;
                            }
                        }
                    } catch (ExecutionException | java.util.concurrent.TimeoutException e) {
                        // a topic not known yet, or a slow answer: its partitions count as not led
                    }
                }
                if (led == total) {
                    break;
                }
                Thread.sleep(200);
            }
        }
        System.out.printf("RESULT step=led partitions=%d led=%d led_ms=%d%n", total, led, millisSince(start));
    }

    /** Produces 10 records to every partition (acks=all) and reads every partition back from the beginning. */
    private static void produceAndRead(String bootstrap, List<String> topics, long timeoutMs) throws Exception {
        long start = System.nanoTime();
        List<TopicPartition> tps = new ArrayList<>();
        topics.forEach(t -> {
            for (int p = 0; p < PARTITIONS_PER_TOPIC; p++) {
                tps.add(new TopicPartition(t, p));
            }
        });
        Properties pp = new Properties();
        pp.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        pp.put(ProducerConfig.ACKS_CONFIG, "all");
        pp.put(ProducerConfig.DELIVERY_TIMEOUT_MS_CONFIG, (int) Math.min(Integer.MAX_VALUE, timeoutMs));
        pp.put(ProducerConfig.REQUEST_TIMEOUT_MS_CONFIG, 30_000);
        pp.put(ProducerConfig.BATCH_SIZE_CONFIG, 1024); // one small batch per partition, not 16 KiB of 32 MiB each
        int acked = 0;
        Map<String, Integer> errors = new HashMap<>();
        try (KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(pp, new ByteArraySerializer(),
                new ByteArraySerializer())) {
            List<Future<RecordMetadata>> sends = new ArrayList<>();
            for (int i = 0; i < RECORDS_PER_PARTITION; i++) {
                for (TopicPartition tp : tps) {
                    sends.add(producer.send(new ProducerRecord<>(tp.topic(), tp.partition(), null,
                            (tp + "#" + i).getBytes())));
                }
            }
            for (Future<RecordMetadata> f : sends) {
                try {
                    f.get();
                    acked++;
                } catch (ExecutionException e) {
                    errors.merge(e.getCause().getClass().getSimpleName(), 1, Integer::sum);
                }
            }
        }
        long produceMs = millisSince(start);
        Properties cp = new Properties();
        cp.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        cp.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
        cp.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        cp.put(ConsumerConfig.MAX_PARTITION_FETCH_BYTES_CONFIG, 64 * 1024);
        Map<TopicPartition, Integer> read = new HashMap<>();
        long readStart = System.nanoTime();
        try (KafkaConsumer<byte[], byte[]> consumer = new KafkaConsumer<>(cp, new ByteArrayDeserializer(),
                new ByteArrayDeserializer())) {
            consumer.assign(tps);
            consumer.seekToBeginning(tps);
            int complete = 0;
            while (complete < tps.size() && millisSince(readStart) < timeoutMs) {
                for (ConsumerRecord<byte[], byte[]> r : consumer.poll(Duration.ofMillis(500))) {
                    TopicPartition tp = new TopicPartition(r.topic(), r.partition());
                    if (read.merge(tp, 1, Integer::sum) == RECORDS_PER_PARTITION) {
                        complete++;
                    }
                }
            }
        }
        long complete = read.values().stream().filter(n -> n >= RECORDS_PER_PARTITION).count();
        System.out.printf("RESULT step=produce partitions=%d records=%d acked=%d errors=%s produce_ms=%d"
                        + " read_complete_partitions=%d read_ms=%d%n", tps.size(), tps.size() * RECORDS_PER_PARTITION,
                acked, errors.isEmpty() ? "none" : errors.toString().replace(" ", ""), produceMs, complete,
                millisSince(readStart));
    }

    /**
     * Waits until {@code nodeId} is in the ISR of every partition it replicates, as that partition's leader reports
     * it: each node is asked for metadata directly (a FluxMQ node knows the ISR only of the partitions it leads).
     */
    private static void awaitInSync(String bootstrap, List<String> topics, int nodeId, long timeoutMs)
            throws Exception {
        long start = System.nanoTime();
        Map<Integer, InetSocketAddress> nodes = new HashMap<>();
        try (Admin admin = admin(bootstrap)) {
            for (Node n : admin.describeCluster().nodes().get(60, TimeUnit.SECONDS)) {
                nodes.put(n.id(), new InetSocketAddress(n.host(), n.port()));
            }
        }
        int total = topics.size() * PARTITIONS_PER_TOPIC;
        int inSync = 0;
        while (millisSince(start) < timeoutMs) {
            Set<String> confirmed = new HashSet<>();
            for (Map.Entry<Integer, InetSocketAddress> n : nodes.entrySet()) {
                MetadataResponseData md;
                try {
                    md = metadata(n.getValue(), topics);
                } catch (IOException e) {
                    continue; // the restarted node may not listen yet
                }
                for (MetadataResponseData.MetadataResponseTopic t : md.topics()) {
                    for (MetadataResponseData.MetadataResponsePartition p : t.partitions()) {
                        if (p.leaderId() == n.getKey() && p.isrNodes().contains(nodeId)) {
                            confirmed.add(t.name() + "-" + p.partitionIndex());
                        }
                    }
                }
            }
            inSync = confirmed.size();
            if (inSync == total) {
                break;
            }
            Thread.sleep(200);
        }
        System.out.printf("RESULT step=insync node=%d partitions=%d in_sync=%d insync_ms=%d%n", nodeId, total, inSync,
                millisSince(start));
    }

    private static MetadataResponseData metadata(InetSocketAddress address, List<String> topics) throws IOException {
        short version = 12;
        MetadataRequestData data = new MetadataRequestData().setAllowAutoTopicCreation(false);
        topics.forEach(t -> data.topics().add(new MetadataRequestData.MetadataRequestTopic().setName(t)));
        RequestHeader header = new RequestHeader(ApiKeys.METADATA, version, "partition-scale", 1);
        ByteBuffer request = new MetadataRequest(data, version).serializeWithHeader(header);
        try (Socket socket = new Socket()) {
            socket.connect(address, 5_000);
            socket.setSoTimeout(30_000);
            DataOutputStream out = new DataOutputStream(socket.getOutputStream());
            out.writeInt(request.remaining());
            out.write(request.array(), request.arrayOffset() + request.position(), request.remaining());
            out.flush();
            DataInputStream in = new DataInputStream(socket.getInputStream());
            byte[] body = new byte[in.readInt()];
            in.readFully(body);
            ByteBuffer buffer = ByteBuffer.wrap(body);
            ResponseHeader.parse(buffer, ApiKeys.METADATA.responseHeaderVersion(version));
            return new MetadataResponseData(new ByteBufferAccessor(buffer), version);
        }
    }

    private static long millisSince(long startNanos) {
        return TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - startNanos);
    }
}
