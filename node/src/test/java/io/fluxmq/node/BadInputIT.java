package io.fluxmq.node;

import java.nio.file.Path;
import java.util.Properties;
import org.apache.kafka.clients.CommonClientConfigs;

/** {@link BadInputChecks} on a plaintext listener. */
class BadInputIT extends BadInputChecks {
    private TestNode node;

    @Override
    TestNode startNode(Path dataDir) throws Exception {
        node = TestNode.start(dataDir);
        return node;
    }

    @Override
    RawKafkaConnection open() throws Exception {
        return RawKafkaConnection.open(node.kafkaPort());
    }

    @Override
    Properties clientSettings() {
        Properties p = new Properties();
        p.put(CommonClientConfigs.BOOTSTRAP_SERVERS_CONFIG, node.bootstrap());
        return p;
    }
}
