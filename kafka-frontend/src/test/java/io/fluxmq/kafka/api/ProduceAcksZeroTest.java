package io.fluxmq.kafka.api;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.fluxmq.kafka.server.FakeBrokerServices;
import io.fluxmq.kafka.server.RequestContext;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.common.compress.Compression;
import org.apache.kafka.common.message.ProduceRequestData;
import org.apache.kafka.common.message.ProduceResponseData;
import org.apache.kafka.common.protocol.ApiKeys;
import org.apache.kafka.common.protocol.Errors;
import org.apache.kafka.common.record.MemoryRecords;
import org.apache.kafka.common.record.SimpleRecord;
import org.apache.kafka.common.requests.RequestHeader;
import org.apache.kafka.common.security.auth.KafkaPrincipal;
import org.junit.jupiter.api.Test;
import org.apache.kafka.common.security.auth.KafkaPrincipal;

/**
 * An acks=0 produce gets no response; one with a failed partition closes the connection instead (Kafka's KafkaApis),
 * which the handler signals with {@link CloseConnectionException}. The fake broker holds no replicas, so its
 * partitions answer NOT_LEADER_OR_FOLLOWER, and partition 99 does not exist.
 */
class ProduceAcksZeroTest {
    private final ProduceHandler handler = new ProduceHandler(new FakeBrokerServices(), tp -> Runnable::run);

    private static ProduceRequestData produce(short acks, int partition) {
        MemoryRecords records = MemoryRecords.withRecords(Compression.NONE, new SimpleRecord("v".getBytes()));
        return new ProduceRequestData().setAcks(acks).setTimeoutMs(1000).setTopicData(
                new ProduceRequestData.TopicProduceDataCollection(List.of(new ProduceRequestData.TopicProduceData()
                        .setName(FakeBrokerServices.TOPIC).setPartitionData(List.of(
                                new ProduceRequestData.PartitionProduceData().setIndex(partition)
                                        .setRecords(records)))).iterator()));
    }

    private static RequestContext context() {
        return new RequestContext(new RequestHeader(ApiKeys.PRODUCE, (short) 9, "client", 3), "EXTERNAL",
                new InetSocketAddress(InetAddress.getLoopbackAddress(), 50_000), KafkaPrincipal.ANONYMOUS);
    }

    @Test
    void aFailedAcksZeroProduceClosesTheConnection() {
        ProduceRequestData notLeader = produce((short) 0, 0);
        assertThat(handler.expectsResponse(notLeader)).isFalse();
        assertThatThrownBy(() -> handler.handle(context(), notLeader).get(5, TimeUnit.SECONDS))
                .isInstanceOf(ExecutionException.class).cause().isInstanceOf(CloseConnectionException.class)
                .hasMessageContaining("orders-0: NOT_LEADER_OR_FOLLOWER");
        assertThatThrownBy(() -> handler.handle(context(), produce((short) 0, 99)).get(5, TimeUnit.SECONDS))
                .cause().isInstanceOf(CloseConnectionException.class)
                .hasMessageContaining("orders-99: UNKNOWN_TOPIC_OR_PARTITION");
    }

    @Test
    void withAcksTheFailureIsAnsweredAndTheConnectionStays() throws Exception {
        for (short acks : new short[] {1, -1}) {
            ProduceResponseData response = (ProduceResponseData) handler.handle(context(), produce(acks, 0))
                    .get(5, TimeUnit.SECONDS);
            assertThat(response.responses().iterator().next().partitionResponses().get(0).errorCode())
                    .isEqualTo(Errors.NOT_LEADER_OR_FOLLOWER.code());
        }
    }
}
