package io.fluxmq.kafka.group;

import java.util.Collection;
import java.util.Optional;
import org.apache.kafka.common.Uuid;

/** The topics a group can subscribe to, as the coordinator sees them in cluster metadata. */
public interface TopicLookup {
    /** A topic: name, id, partition count, whether it is internal. */
    record Topic(String name, Uuid id, int partitions, boolean internal) {}

    Optional<Topic> byName(String name);

    Optional<Topic> byId(Uuid id);

    Collection<Topic> all();
}
