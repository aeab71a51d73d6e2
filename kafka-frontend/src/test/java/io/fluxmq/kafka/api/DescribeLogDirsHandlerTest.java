package io.fluxmq.kafka.api;

import static org.assertj.core.api.Assertions.assertThat;

import io.fluxmq.kafka.broker.LogDirDescription;
import io.fluxmq.kafka.broker.StubBrokerServices;
import io.fluxmq.kafka.broker.TopicInfo;
import io.fluxmq.kafka.server.RequestContext;
import java.net.InetSocketAddress;
import java.util.Collection;
import java.util.List;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.message.DescribeLogDirsRequestData;
import org.apache.kafka.common.message.DescribeLogDirsRequestData.DescribableLogDirTopic;
import org.apache.kafka.common.message.DescribeLogDirsRequestData.DescribableLogDirTopicCollection;
import org.apache.kafka.common.message.DescribeLogDirsResponseData;
import org.apache.kafka.common.message.DescribeLogDirsResponseData.DescribeLogDirsResult;
import org.apache.kafka.common.message.DescribeLogDirsResponseData.DescribeLogDirsTopic;
import org.apache.kafka.common.protocol.ApiKeys;
import org.apache.kafka.common.protocol.Errors;
import org.apache.kafka.common.requests.RequestHeader;
import org.apache.kafka.common.security.auth.KafkaPrincipal;
import org.junit.jupiter.api.Test;
import org.apache.kafka.common.security.auth.KafkaPrincipal;

/** DescribeLogDirs lists this node's one log directory with every replica it holds, or the requested ones. */
class DescribeLogDirsHandlerTest {
    private final DescribeLogDirsHandler handler = new DescribeLogDirsHandler(new StubBrokerServices() {
        @Override
        public Collection<TopicInfo> topics() {
            return List.of();
        }

        @Override
        public java.util.Optional<TopicInfo> topic(String name) {
            return java.util.Optional.empty();
        }

        @Override
        public LogDirDescription logDir() {
            return new LogDirDescription("/data/topics", 1000, 400, List.of(
                    new LogDirDescription.Replica(new TopicPartition("a", 0), 123, 0),
                    new LogDirDescription.Replica(new TopicPartition("a", 2), 0, 0),
                    new LogDirDescription.Replica(new TopicPartition("b", 1), 77, 5)));
        }
    });

    private DescribeLogDirsResult call(DescribeLogDirsRequestData request) {
        RequestContext context = new RequestContext(new RequestHeader(ApiKeys.DESCRIBE_LOG_DIRS, (short) 4, "t", 1),
                "EXTERNAL", new InetSocketAddress("127.0.0.1", 40000), KafkaPrincipal.ANONYMOUS);
        DescribeLogDirsResponseData response = (DescribeLogDirsResponseData) handler.handle(context, request).join();
        assertThat(response.errorCode()).isEqualTo(Errors.NONE.code());
        assertThat(response.results()).hasSize(1);
        return response.results().get(0);
    }

    @Test
    void everyReplicaWithoutATopicList() {
        DescribeLogDirsResult dir = call(new DescribeLogDirsRequestData().setTopics(null));
        assertThat(dir.logDir()).isEqualTo("/data/topics");
        assertThat(dir.totalBytes()).isEqualTo(1000);
        assertThat(dir.usableBytes()).isEqualTo(400);
        assertThat(dir.topics()).extracting(DescribeLogDirsTopic::name).containsExactly("a", "b");
        assertThat(dir.topics().get(0).partitions()).extracting(p -> p.partitionIndex() + ":" + p.partitionSize()
                + ":" + p.offsetLag() + ":" + p.isFutureKey()).containsExactly("0:123:0:false", "2:0:0:false");
        assertThat(dir.topics().get(1).partitions().get(0).offsetLag()).isEqualTo(5);
    }

    @Test
    void onlyTheRequestedReplicasThisNodeHolds() {
        DescribableLogDirTopicCollection topics = new DescribableLogDirTopicCollection();
        topics.add(new DescribableLogDirTopic().setTopic("a").setPartitions(List.of(2, 5)));
        topics.add(new DescribableLogDirTopic().setTopic("c").setPartitions(List.of(0)));
        DescribeLogDirsResult dir = call(new DescribeLogDirsRequestData().setTopics(topics));
        assertThat(dir.topics()).hasSize(1);
        assertThat(dir.topics().get(0).name()).isEqualTo("a");
        assertThat(dir.topics().get(0).partitions()).extracting(p -> p.partitionIndex()).containsExactly(2);
    }
}
