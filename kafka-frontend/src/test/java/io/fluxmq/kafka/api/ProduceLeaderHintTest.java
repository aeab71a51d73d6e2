package io.fluxmq.kafka.api;

import static org.assertj.core.api.Assertions.assertThat;

import io.fluxmq.kafka.server.FakeBrokerServices;
import io.fluxmq.kafka.server.RequestContext;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.common.compress.Compression;
import org.apache.kafka.common.message.ProduceRequestData;
import org.apache.kafka.common.message.ProduceResponseData;
import org.apache.kafka.common.protocol.ApiKeys;
import org.apache.kafka.common.protocol.Errors;
import org.apache.kafka.common.protocol.MessageUtil;
import org.apache.kafka.common.record.MemoryRecords;
import org.apache.kafka.common.record.SimpleRecord;
import org.apache.kafka.common.requests.ProduceResponse;
import org.apache.kafka.common.requests.RequestHeader;
import org.apache.kafka.common.security.auth.KafkaPrincipal;
import org.junit.jupiter.api.Test;

/**
 * KIP-951: a Produce refused with NOT_LEADER_OR_FOLLOWER names the leader the node knows, its epoch and its endpoint
 * (v10+), and the answer reads back through the Java client's own parser; older versions carry none of it.
 */
class ProduceLeaderHintTest {
    private final FakeBrokerServices broker = new FakeBrokerServices();
    private final ProduceHandler handler = new ProduceHandler(broker, tp -> Runnable::run);

    private static ProduceRequestData produce() {
        MemoryRecords records = MemoryRecords.withRecords(Compression.NONE, new SimpleRecord("v".getBytes()));
        return new ProduceRequestData().setAcks((short) -1).setTimeoutMs(1000).setTopicData(
                new ProduceRequestData.TopicProduceDataCollection(List.of(new ProduceRequestData.TopicProduceData()
                        .setName(FakeBrokerServices.TOPIC).setPartitionData(List.of(
                                new ProduceRequestData.PartitionProduceData().setIndex(0).setRecords(records))))
                        .iterator()));
    }

    /** The handler's answer at {@code version}, serialized and parsed back as the client would. */
    private ProduceResponse answer(short version) throws Exception {
        RequestContext context = new RequestContext(new RequestHeader(ApiKeys.PRODUCE, version, "client", 3),
                "EXTERNAL", new InetSocketAddress(InetAddress.getLoopbackAddress(), 50_000), KafkaPrincipal.ANONYMOUS);
        ProduceResponseData data = (ProduceResponseData) handler.handle(context, produce()).get(5, TimeUnit.SECONDS);
        return ProduceResponse.parse(MessageUtil.toByteBufferAccessor(data, version), version);
    }

    @Test
    void aRefusalNamesTheLeaderItsEpochAndItsEndpoint() throws Exception {
        broker.leaderOn(3, 7);
        ProduceResponse response = answer((short) 12);
        ProduceResponseData.PartitionProduceResponse partition =
                response.data().responses().iterator().next().partitionResponses().get(0);
        assertThat(partition.errorCode()).isEqualTo(Errors.NOT_LEADER_OR_FOLLOWER.code());
        assertThat(partition.currentLeader().leaderId()).isEqualTo(3);
        assertThat(partition.currentLeader().leaderEpoch()).isEqualTo(7);
        assertThat(response.data().nodeEndpoints()).singleElement().satisfies(node -> {
            assertThat(node.nodeId()).isEqualTo(3);
            assertThat(node.host()).isEqualTo("127.0.0.1");
            assertThat(node.port()).isEqualTo(9094);
            assertThat(node.rack()).isEqualTo("rack-3");
        });
    }

    @Test
    void versionsBeforeTenCarryNoHint() throws Exception {
        broker.leaderOn(3, 7);
        ProduceResponse response = answer((short) 9);
        ProduceResponseData.PartitionProduceResponse partition =
                response.data().responses().iterator().next().partitionResponses().get(0);
        assertThat(partition.errorCode()).isEqualTo(Errors.NOT_LEADER_OR_FOLLOWER.code());
        assertThat(partition.currentLeader().leaderId()).isEqualTo(-1);
        assertThat(response.data().nodeEndpoints()).isEmpty();
    }

    @Test
    void noLeaderKnownNoHint() throws Exception {
        broker.leaderOn(-1, -1);
        ProduceResponse response = answer((short) 12);
        assertThat(response.data().responses().iterator().next().partitionResponses().get(0).currentLeader()
                .leaderId()).isEqualTo(-1);
        assertThat(response.data().nodeEndpoints()).isEmpty();
    }
}
