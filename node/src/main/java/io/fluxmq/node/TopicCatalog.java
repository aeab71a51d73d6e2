package io.fluxmq.node;

import io.fluxmq.kafka.broker.TopicInfo;
import java.io.IOException;
import java.io.Reader;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import java.util.concurrent.ConcurrentHashMap;
import java.util.stream.Stream;
import org.apache.kafka.common.Uuid;

/**
 * The topics this node knows, kept in {@code <data-dir>/metadata/topics/<name>.properties} (keys {@code id},
 * {@code partitions}, {@code replication.factor}, {@code internal} and {@code config.<name>}), each written to a
 * temporary file and renamed so a crash leaves either the old or the new version. Single-node metadata store; the
 * replicated metadata group replaces it when nodes form a cluster. Thread-safe.
 */
final class TopicCatalog {
    private final Path dir;
    private final Map<String, TopicInfo> byName = new ConcurrentHashMap<>();
    private final Map<Uuid, TopicInfo> byId = new ConcurrentHashMap<>();

    TopicCatalog(Path dataDir) throws IOException {
        this.dir = dataDir.resolve("metadata").resolve("topics");
        Files.createDirectories(dir);
        try (Stream<Path> files = Files.list(dir)) {
            for (Path file : files.filter(f -> f.toString().endsWith(".properties")).toList()) {
                TopicInfo topic = read(file);
                byName.put(topic.name(), topic);
                byId.put(topic.topicId(), topic);
            }
        }
    }

    Collection<TopicInfo> topics() {
        return List.copyOf(byName.values());
    }

    Optional<TopicInfo> topic(String name) {
        return Optional.ofNullable(byName.get(name));
    }

    Optional<TopicInfo> topic(Uuid id) {
        return Optional.ofNullable(byId.get(id));
    }

    synchronized void put(TopicInfo topic) throws IOException {
        Properties p = new Properties();
        p.setProperty("name", topic.name());
        p.setProperty("id", topic.topicId().toString());
        p.setProperty("partitions", Integer.toString(topic.partitions()));
        p.setProperty("replication.factor", Short.toString(topic.replicationFactor()));
        p.setProperty("internal", Boolean.toString(topic.internal()));
        topic.configs().forEach((k, v) -> p.setProperty("config." + k, v));
        Path file = dir.resolve(topic.name() + ".properties");
        Path tmp = dir.resolve(topic.name() + ".properties.tmp");
        try (Writer out = Files.newBufferedWriter(tmp, StandardCharsets.UTF_8)) {
            p.store(out, "FluxMQ topic");
        }
        Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        byName.put(topic.name(), topic);
        byId.put(topic.topicId(), topic);
    }

    synchronized void remove(String name) throws IOException {
        TopicInfo topic = byName.remove(name);
        if (topic != null) {
            byId.remove(topic.topicId());
            Files.deleteIfExists(dir.resolve(name + ".properties"));
        }
    }

    private static TopicInfo read(Path file) throws IOException {
        Properties p = new Properties();
        try (Reader in = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
            p.load(in);
        }
        Map<String, String> configs = new HashMap<>();
        for (String key : p.stringPropertyNames()) {
            if (key.startsWith("config.")) {
                configs.put(key.substring("config.".length()), p.getProperty(key));
            }
        }
        return new TopicInfo(p.getProperty("name"), Uuid.fromString(p.getProperty("id")),
                Integer.parseInt(p.getProperty("partitions")), Short.parseShort(p.getProperty("replication.factor")),
                Map.copyOf(configs), Boolean.parseBoolean(p.getProperty("internal")));
    }
}
