package io.fluxmq.kafka.api;

import io.fluxmq.kafka.broker.BrokerServices;
import io.fluxmq.kafka.broker.LogDirDescription;
import io.fluxmq.kafka.server.RequestContext;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import org.apache.kafka.common.acl.AclOperation;
import org.apache.kafka.common.message.DescribeLogDirsRequestData;
import org.apache.kafka.common.message.DescribeLogDirsRequestData.DescribableLogDirTopic;
import org.apache.kafka.common.message.DescribeLogDirsResponseData;
import org.apache.kafka.common.message.DescribeLogDirsResponseData.DescribeLogDirsPartition;
import org.apache.kafka.common.message.DescribeLogDirsResponseData.DescribeLogDirsResult;
import org.apache.kafka.common.message.DescribeLogDirsResponseData.DescribeLogDirsTopic;
import org.apache.kafka.common.protocol.ApiKeys;
import org.apache.kafka.common.protocol.ApiMessage;
import org.apache.kafka.common.protocol.Errors;

/**
 * DescribeLogDirs v1–4 ({@code Admin.describeLogDirs}, {@code describeReplicaLogDirs}, {@code kafka-log-dirs}; v0
 * is gone from Kafka 4 clients): this node's one log directory ({@code <data-dir>/topics}) with, for each replica it
 * holds (all of them when the request lists no topics, else the listed ones it holds), the bytes of its segment
 * files and its offset lag ({@link LogDirDescription.Replica}); never a future replica, as FluxMQ moves replicas
 * between nodes, not directories. v4 adds the file system's total and usable bytes. Answers from memory and one
 * file-system query, on the calling thread.
 */
public final class DescribeLogDirsHandler implements ApiHandler<DescribeLogDirsRequestData> {
    private final BrokerServices broker;

    public DescribeLogDirsHandler(BrokerServices broker) {
        this.broker = broker;
    }

    @Override
    public ApiKeys apiKey() {
        return ApiKeys.DESCRIBE_LOG_DIRS;
    }

    @Override
    public short minVersion() {
        return 1;
    }

    @Override
    public short maxVersion() {
        return 4;
    }

    @Override
    public CompletableFuture<ApiMessage> handle(RequestContext context, DescribeLogDirsRequestData request) {
        if (!broker.authorization().allowedOnCluster(context, AclOperation.DESCRIBE)) {
            return CompletableFuture.completedFuture(new DescribeLogDirsResponseData()
                    .setErrorCode(Errors.CLUSTER_AUTHORIZATION_FAILED.code()));
        }
        LogDirDescription dir = broker.logDir();
        DescribeLogDirsResult result = new DescribeLogDirsResult().setErrorCode(Errors.NONE.code())
                .setLogDir(dir.path()).setTotalBytes(dir.totalBytes()).setUsableBytes(dir.usableBytes());
        Map<String, DescribeLogDirsTopic> topics = new LinkedHashMap<>();
        for (LogDirDescription.Replica r : dir.replicas()) {
            if (request.topics() != null) {
                DescribableLogDirTopic wanted = request.topics().find(r.topicPartition().topic());
                if (wanted == null || !wanted.partitions().contains(r.topicPartition().partition())) {
                    continue;
                }
            }
            topics.computeIfAbsent(r.topicPartition().topic(), n -> new DescribeLogDirsTopic().setName(n))
                    .partitions().add(new DescribeLogDirsPartition().setPartitionIndex(r.topicPartition().partition())
                            .setPartitionSize(r.sizeBytes()).setOffsetLag(r.offsetLag()).setIsFutureKey(false));
        }
        result.topics().addAll(topics.values());
        DescribeLogDirsResponseData response = new DescribeLogDirsResponseData().setErrorCode(Errors.NONE.code());
        response.results().add(result);
        return CompletableFuture.completedFuture(response);
    }
}
