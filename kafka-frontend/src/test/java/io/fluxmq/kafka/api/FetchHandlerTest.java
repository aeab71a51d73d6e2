package io.fluxmq.kafka.api;

import static org.assertj.core.api.Assertions.assertThat;

import io.fluxmq.kafka.broker.BrokerServices;
import io.fluxmq.kafka.broker.PartitionReads;
import io.fluxmq.kafka.quota.ClientQuotaConfig;
import io.fluxmq.kafka.quota.ClientQuotaManager;
import io.fluxmq.kafka.broker.StubBrokerServices;
import io.fluxmq.kafka.broker.TopicInfo;
import io.fluxmq.kafka.fetch.FetchSessionCache;
import io.fluxmq.kafka.metrics.FrontendMetrics;
import io.fluxmq.kafka.server.RequestContext;
import io.fluxmq.kafka.server.ResponseEncoder;
import io.fluxmq.raft.log.SegmentLog;
import io.fluxmq.raft.log.SegmentLogConfig;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.PooledByteBufAllocator;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.LongConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.Uuid;
import org.apache.kafka.common.compress.Compression;
import org.apache.kafka.common.message.FetchRequestData;
import org.apache.kafka.common.message.FetchResponseData;
import org.apache.kafka.common.quota.ClientQuotaEntity;
import org.apache.kafka.common.protocol.ApiKeys;
import org.apache.kafka.common.protocol.ApiMessage;
import org.apache.kafka.common.protocol.ByteBufferAccessor;
import org.apache.kafka.common.protocol.Errors;
import org.apache.kafka.common.record.MemoryRecords;
import org.apache.kafka.common.record.Record;
import org.apache.kafka.common.record.RecordBatch;
import org.apache.kafka.common.record.SimpleRecord;
import org.apache.kafka.common.requests.FetchResponse;
import org.apache.kafka.common.requests.RequestHeader;
import org.apache.kafka.common.utils.ByteUtils;
import org.apache.kafka.common.security.auth.KafkaPrincipal;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.apache.kafka.common.security.auth.KafkaPrincipal;

/**
 * The fetch read path over real memory-mapped segment logs (two partitions, no Raft): byte limits, sessions as the
 * Java consumer drives them, long polls woken by a high watermark, and the response frame as the client parses it.
 */
class FetchHandlerTest {
    private static final String TOPIC = "t";
    private static final Uuid TOPIC_ID = Uuid.fromString("AAAAAAAAAAAAAAAAAAAAAg");
    private static final short V = 17;
    private static final int RECORDS_PER_BATCH = 20;
    private static final int VALUE_BYTES = 100;

    @TempDir
    Path dir;
    private final List<Partition> partitions = new ArrayList<>();
    private FetchHandler handler;
    private StubBrokerServices broker;

    /** One partition: a segment log and a high watermark moved by the test. */
    private static final class Partition implements PartitionReads {
        final SegmentLog log;
        volatile long hw;
        final List<LongConsumer> listeners = new CopyOnWriteArrayList<>();

        Partition(SegmentLog log) {
            this.log = log;
        }

        void append(int batches) throws IOException {
            for (int b = 0; b < batches; b++) {
                SimpleRecord[] records = new SimpleRecord[RECORDS_PER_BATCH];
                for (int i = 0; i < records.length; i++) {
                    records[i] = new SimpleRecord(new byte[VALUE_BYTES]);
                }
                log.append(MemoryRecords.withRecords(log.logEndOffset(), Compression.NONE, records).buffer());
            }
        }

        void commit() {
            hw = log.logEndOffset();
            listeners.forEach(l -> l.accept(hw));
        }

        @Override
        public boolean isLeader() {
            return true;
        }

        @Override
        public int leaderEpoch() {
            return 0;
        }

        @Override
        public long highWatermark() {
            return hw;
        }

        @Override
        public long logStartOffset() {
            return log.logStartOffset();
        }

        @Override
        public MemoryRecords read(long offset, int maxBytes, boolean minOneBatch) {
            return log.read(offset, maxBytes, hw, minOneBatch);
        }

        @Override
        public void addHighWatermarkListener(LongConsumer listener) {
            listeners.add(listener);
        }

        @Override
        public void removeHighWatermarkListener(LongConsumer listener) {
            listeners.remove(listener);
        }
    }

    @BeforeEach
    void setUp() throws IOException {
        for (int p = 0; p < 2; p++) {
            partitions.add(new Partition(SegmentLog.open(dir.resolve("p" + p), SegmentLogConfig.defaults(),
                    System::currentTimeMillis)));
        }
        TopicInfo info = new TopicInfo(TOPIC, TOPIC_ID, 2, (short) 1, Map.of(), false);
        broker = new StubBrokerServices() {
            @Override
            public Collection<TopicInfo> topics() {
                return List.of(info);
            }

            @Override
            public Optional<TopicInfo> topic(String name) {
                return name.equals(TOPIC) ? Optional.of(info) : Optional.empty();
            }

            @Override
            public PartitionReads partitionReads(TopicPartition tp) {
                return partitions.get(tp.partition());
            }
        };
        handler = new FetchHandler(broker, new FetchSessionCache(10, 120_000), Runnable::run);
    }

    @AfterEach
    void tearDown() throws IOException {
        for (Partition p : partitions) {
            p.log.close();
        }
    }

    private static FetchRequestData fetch(int sessionId, int epoch, int maxWaitMs, int maxBytes, int partitionMaxBytes,
                                          long... offsets) {
        List<FetchRequestData.FetchPartition> parts = new ArrayList<>();
        for (int p = 0; p < offsets.length; p++) {
            if (offsets[p] >= 0) {
                parts.add(new FetchRequestData.FetchPartition().setPartition(p).setFetchOffset(offsets[p])
                        .setPartitionMaxBytes(partitionMaxBytes).setCurrentLeaderEpoch(-1).setLogStartOffset(-1));
            }
        }
        return new FetchRequestData().setReplicaId(-1).setMaxWaitMs(maxWaitMs).setMinBytes(1).setMaxBytes(maxBytes)
                .setSessionId(sessionId).setSessionEpoch(epoch).setTopics(List.of(
                        new FetchRequestData.FetchTopic().setTopicId(TOPIC_ID).setPartitions(parts)));
    }

    private CompletableFuture<ApiMessage> send(FetchRequestData request) {
        RequestContext context = new RequestContext(new RequestHeader(
                ApiKeys.FETCH, V, "consumer", 1), "EXTERNAL",
                new InetSocketAddress(InetAddress.getLoopbackAddress(), 50_000), KafkaPrincipal.ANONYMOUS);
        return handler.handle(context, request);
    }

    /** Encodes the response as the frontend sends it and parses it as the Java client does. */
    private static FetchResponse onTheWire(ApiMessage body) {
        ByteBuf frame = ResponseEncoder.encode(ApiKeys.FETCH, V, 7, body, PooledByteBufAllocator.DEFAULT);
        try {
            ByteBuffer bytes = ByteBuffer.allocate(frame.readableBytes());
            frame.getBytes(frame.readerIndex(), bytes);
            bytes.flip();
            assertThat(bytes.getInt()).isEqualTo(bytes.remaining());
            assertThat(bytes.getInt()).as("correlation id").isEqualTo(7);
            ByteUtils.readUnsignedVarint(bytes); // header tagged fields
            return FetchResponse.parse(new ByteBufferAccessor(bytes), V);
        } finally {
            frame.release();
        }
    }

    private static Map<Integer, List<Long>> offsets(FetchResponse response) {
        Map<Integer, List<Long>> out = new TreeMap<>();
        response.data().responses().forEach(t -> t.partitions().forEach(p -> {
            List<Long> offsets = new ArrayList<>();
            for (RecordBatch batch : ((MemoryRecords) p.records()).batches()) {
                assertThat(batch.isValid()).isTrue();
                for (Record r : batch) {
                    offsets.add(r.offset());
                }
            }
            out.put(p.partitionIndex(), offsets);
        }));
        return out;
    }

    @Test
    void aConsumerOverItsQuotaIsThrottledAndGetsAtMostOneQuotaWindow() throws Exception {
        // consumer_byte_rate 1,000 B/s for client id "consumer", two samples of 1 s: a window admits 1,000 bytes
        ClientQuotaManager quotas = new ClientQuotaManager(new ClientQuotaConfig(2, 1),
                org.apache.kafka.common.utils.Time.SYSTEM);
        quotas.update(Map.of(new ClientQuotaEntity(Map.of(ClientQuotaEntity.CLIENT_ID, "consumer")),
                Map.of("consumer_byte_rate", 1000.0)));
        StubBrokerServices stub = broker;
        BrokerServices limited = new StubBrokerServices() {
            @Override
            public Collection<TopicInfo> topics() {
                return stub.topics();
            }

            @Override
            public Optional<TopicInfo> topic(String name) {
                return stub.topic(name);
            }

            @Override
            public PartitionReads partitionReads(TopicPartition tp) {
                return stub.partitionReads(tp);
            }

            @Override
            public ClientQuotaManager quotas() {
                return quotas;
            }
        };
        handler = new FetchHandler(limited, new FetchSessionCache(10, 120_000), Runnable::run);
        partitions.get(0).append(5); // five batches of ~2.3 KB
        partitions.get(0).commit();

        FetchResponseData held = (FetchResponseData) send(fetch(0, -1, 0, 1 << 20, 1 << 20, 0, -1))
                .get(5, TimeUnit.SECONDS);
        assertThat(offsets(onTheWire(held)).get(0)).as("one batch: the first goes out whole")
                .hasSize(RECORDS_PER_BATCH);
        assertThat(held.throttleTimeMs()).isPositive();

        FetchResponseData free = (FetchResponseData) handler.handle(new RequestContext(new RequestHeader(
                ApiKeys.FETCH, V, "other", 1), "EXTERNAL", new InetSocketAddress(InetAddress.getLoopbackAddress(),
                50_000), KafkaPrincipal.ANONYMOUS), fetch(0, -1, 0, 1 << 20, 1 << 20, 0, -1)).get(5, TimeUnit.SECONDS);
        assertThat(offsets(onTheWire(free)).get(0)).hasSize(5 * RECORDS_PER_BATCH);
        assertThat(free.throttleTimeMs()).isZero();
    }

    @Test
    void countsTheBytesAndRecordsEachResponseSendsOncePerTopic() throws Exception {
        AtomicLong bytes = new AtomicLong();
        AtomicLong records = new AtomicLong();
        List<String> topics = new CopyOnWriteArrayList<>();
        handler = new FetchHandler(broker, new FetchSessionCache(10, 120_000), Runnable::run, new FrontendMetrics() {
            @Override
            public void requestDone(ApiKeys api, long nanos) {
            }

            @Override
            public void connectionOpened(String listener) {
            }

            @Override
            public void connectionClosed(String listener) {
            }

            @Override
            public TopicMeters topic(String topic) {
                topics.add(topic);
                return new TopicMeters() {
                    @Override
                    public void produced(int b, int r) {
                    }

                    @Override
                    public void fetched(int b, int r) {
                        bytes.addAndGet(b);
                        records.addAndGet(r);
                    }
                };
            }
        });
        partitions.get(0).append(3);
        partitions.get(0).commit();
        partitions.get(1).commit(); // empty

        FetchResponseData response = (FetchResponseData) send(fetch(0, -1, 0, 1 << 20, 1 << 20, 0, 0))
                .get(5, TimeUnit.SECONDS);
        int sent = response.responses().get(0).partitions().stream().mapToInt(p -> p.records().sizeInBytes()).sum();
        assertThat(sent).isPositive();
        assertThat(bytes.get()).isEqualTo(sent);
        assertThat(records.get()).isEqualTo(3 * RECORDS_PER_BATCH);
        assertThat(topics).containsOnly(TOPIC);

        // a long poll that times out empty counts nothing
        send(fetch(0, -1, 20, 1 << 20, 1 << 20, 60, 0)).get(5, TimeUnit.SECONDS);
        assertThat(records.get()).isEqualTo(3 * RECORDS_PER_BATCH);
    }

    @Test
    void readsCommittedBatchesWithinTheLimitsAndTheClientParsesThemIntact() throws Exception {
        partitions.get(0).append(10);
        partitions.get(1).append(10);
        partitions.get(0).commit();
        partitions.get(1).append(1); // beyond partition 1's high watermark: never served
        partitions.get(1).hw = 200;

        FetchResponse all = onTheWire(send(fetch(0, -1, 0, 1 << 20, 1 << 20, 0, 0)).get(5, TimeUnit.SECONDS));
        assertThat(all.data().sessionId()).isZero();
        assertThat(offsets(all).get(0)).hasSize(200).startsWith(0L, 1L).endsWith(199L);
        assertThat(offsets(all).get(1)).hasSize(200);

        // a partition limit below one batch still returns the first batch, and nothing of the second partition
        FetchResponse small = onTheWire(send(fetch(0, -1, 0, 100, 100, 20, 0)).get(5, TimeUnit.SECONDS));
        assertThat(offsets(small).get(0)).hasSize(RECORDS_PER_BATCH).startsWith(20L);
        assertThat(offsets(small).get(1)).isEmpty();
        assertThat(small.data().responses().get(0).partitions().get(1).highWatermark()).isEqualTo(200);
    }

    @Test
    void sessionsAnswerOnlyPartitionsWithNewsAndLongPollsWakeOnCommit() throws Exception {
        partitions.get(0).append(2);
        partitions.get(1).append(2);
        partitions.get(0).commit();
        partitions.get(1).commit();

        FetchResponse full = onTheWire(send(fetch(0, 0, 0, 1 << 20, 1 << 20, 0, 0)).get(5, TimeUnit.SECONDS));
        int session = full.data().sessionId();
        assertThat(session).isPositive();
        assertThat(offsets(full).get(0)).hasSize(40);
        assertThat(offsets(full).get(1)).hasSize(40);

        // the consumer names both partitions with their new positions; nothing new: an empty response after the wait
        FetchResponse quiet = onTheWire(send(fetch(session, 1, 0, 1 << 20, 1 << 20, 40, 40)).get(5, TimeUnit.SECONDS));
        assertThat(quiet.data().sessionId()).isEqualTo(session);
        assertThat(quiet.data().responses()).isEmpty();

        // a long poll naming nothing waits, and wakes when partition 1 commits more: only partition 1 answers
        CompletableFuture<ApiMessage> poll = send(fetch(session, 2, 30_000, 1 << 20, 1 << 20));
        assertThat(poll).isNotDone();
        partitions.get(1).append(1);
        partitions.get(1).commit();
        FetchResponse woken = onTheWire(poll.get(5, TimeUnit.SECONDS));
        assertThat(offsets(woken)).containsOnlyKeys(1);
        assertThat(offsets(woken).get(1)).hasSize(RECORDS_PER_BATCH).startsWith(40L);

        FetchResponse stale = onTheWire(send(fetch(session, 2, 0, 1 << 20, 1 << 20)).get(5, TimeUnit.SECONDS));
        assertThat(stale.error()).isEqualTo(Errors.INVALID_FETCH_SESSION_EPOCH);
        assertThat(stale.data().responses()).isEmpty();
    }
}
