package io.fluxmq.node;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.common.compress.Compression;
import org.apache.kafka.common.message.InitProducerIdRequestData;
import org.apache.kafka.common.message.InitProducerIdResponseData;
import org.apache.kafka.common.message.ProduceRequestData;
import org.apache.kafka.common.protocol.ApiKeys;
import org.apache.kafka.common.protocol.ApiMessage;
import org.apache.kafka.common.protocol.Errors;
import org.apache.kafka.common.record.MemoryRecords;
import org.apache.kafka.common.record.RecordBatch;
import org.apache.kafka.common.record.SimpleRecord;
import org.apache.kafka.common.requests.AbstractResponse;
import org.apache.kafka.common.requests.InitProducerIdResponse;
import org.apache.kafka.common.requests.ProduceResponse;
import org.apache.kafka.common.requests.RequestHeader;
import org.apache.kafka.common.requests.RequestUtils;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Idempotent producers over raw requests: InitProducerId never bumps another producer's epoch (Kafka's rules for
 * producers without a transactional id), and a partition forgets a producer idle for {@code producer.id.expiration.ms}.
 */
class IdempotentProducerIT {
    private static final String TOPIC = "idempotent";
    private static final long EXPIRATION_MS = 1000;

    @TempDir
    Path dataDir;
    private int correlationId;

    @Test
    void oneClientCannotFenceAnotherAndIdleProducersExpire() throws Exception {
        try (TestNode node = TestNode.start(dataDir, Map.of("producer.id.expiration.ms", Long.toString(EXPIRATION_MS)))) {
            node.createTopic(TOPIC, 1);
            try (RawKafkaConnection c = RawKafkaConnection.open(node.kafkaPort())) {
                InitProducerIdResponseData first = initProducerId(c, RecordBatch.NO_PRODUCER_ID,
                        RecordBatch.NO_PRODUCER_EPOCH);
                assertThat(first.errorCode()).isEqualTo(Errors.NONE.code());
                assertThat(first.producerEpoch()).isZero();
                long p = first.producerId();
                assertThat(produce(c, p, 0)).isEqualTo(Errors.NONE);

                InitProducerIdResponseData other = initProducerId(c, p, (short) 0);
                assertThat(other.errorCode()).isEqualTo(Errors.NONE.code());
                assertThat(other.producerId()).as("a fresh id, not producer %d at epoch 1", p).isNotEqualTo(p);
                assertThat(other.producerEpoch()).isZero();
                long lastWriteOfP = System.currentTimeMillis(); // its timestamps and append time are no earlier
                assertThat(produce(c, p, 1)).as("producer %d is not fenced", p).isEqualTo(Errors.NONE);
                assertThat(initProducerId(c, p, RecordBatch.NO_PRODUCER_EPOCH).errorCode())
                        .isEqualTo(Errors.INVALID_REQUEST.code());

                assertThat(produce(c, p, 5)).as("a gap while the partition knows producer %d", p)
                        .isEqualTo(Errors.OUT_OF_ORDER_SEQUENCE_NUMBER);
                // Another producer's writes advance the log's clock; once producer p has been idle for the expiration
                // on it, the partition has forgotten p, which may then go on at any sequence (as in Kafka).
                long q = other.producerId();
                long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
                int qSequence = 0;
                Errors resumed;
                do {
                    assertThat(produce(c, q, qSequence++)).isEqualTo(Errors.NONE);
                    resumed = produce(c, p, 5);
                    if (resumed != Errors.NONE) {
                        Thread.sleep(50);
                    }
                } while (resumed != Errors.NONE && System.nanoTime() < deadline);
                assertThat(resumed).isEqualTo(Errors.NONE);
                assertThat(System.currentTimeMillis() - lastWriteOfP)
                        .as("not forgotten before it was idle for the expiration").isGreaterThanOrEqualTo(EXPIRATION_MS);
                assertThat(produce(c, p, 6)).isEqualTo(Errors.NONE);
                assertThat(produce(c, p, 8)).as("known again").isEqualTo(Errors.OUT_OF_ORDER_SEQUENCE_NUMBER);
            }
        }
    }

    private InitProducerIdResponseData initProducerId(RawKafkaConnection c, long producerId, short epoch)
            throws Exception {
        InitProducerIdRequestData request = new InitProducerIdRequestData().setTransactionalId(null)
                .setTransactionTimeoutMs(60_000).setProducerId(producerId).setProducerEpoch(epoch);
        return ((InitProducerIdResponse) roundTrip(c, ApiKeys.INIT_PRODUCER_ID, (short) 4, request)).data();
    }

    /** Produces one record of {@code producerId} at epoch 0 and {@code sequence}; returns the partition's error. */
    private Errors produce(RawKafkaConnection c, long producerId, int sequence) throws Exception {
        MemoryRecords records = MemoryRecords.withIdempotentRecords(Compression.NONE, producerId, (short) 0, sequence,
                new SimpleRecord(System.currentTimeMillis(), null, ("v" + sequence).getBytes(StandardCharsets.UTF_8)));
        ProduceRequestData request = new ProduceRequestData().setAcks((short) -1).setTimeoutMs(10_000)
                .setTopicData(new ProduceRequestData.TopicProduceDataCollection(List.of(
                        new ProduceRequestData.TopicProduceData().setName(TOPIC).setPartitionData(List.of(
                                new ProduceRequestData.PartitionProduceData().setIndex(0).setRecords(records))))
                        .iterator()));
        ProduceResponse response = (ProduceResponse) roundTrip(c, ApiKeys.PRODUCE, (short) 9, request);
        return Errors.forCode(response.data().responses().iterator().next().partitionResponses().get(0).errorCode());
    }

    private AbstractResponse roundTrip(RawKafkaConnection c, ApiKeys key, short version, ApiMessage body)
            throws Exception {
        RequestHeader header = new RequestHeader(key, version, "idempotent-it", ++correlationId);
        c.sendFrame(RequestUtils.serialize(header.data(), header.headerVersion(), body, header.apiVersion()));
        return AbstractResponse.parseResponse(c.readFrame(), header);
    }
}
