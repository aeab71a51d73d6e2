package io.fluxmq.node;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.ConsumerGroupDescription;
import org.apache.kafka.clients.admin.MemberDescription;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRebalanceListener;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.GroupState;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 10: a consumer group keeps its assignment when the node coordinating it is killed. Two groups on a 3-node
 * cluster, one of two KIP-848 members ({@code group.protocol=consumer}) and one of two static classic members
 * ({@code group.instance.id}), both coordinated by the one offsets partition's leader, consume a topic and commit
 * after every poll; that node is SIGKILLed. The new coordinator must go on with the same members: no member's
 * rebalance listener is called again (a KIP-848 member the coordinator no longer knew would lose its partitions and
 * rejoin; a classic member would rejoin), every commit after the kill succeeds in the members' generation or epoch,
 * and both groups read everything written before and after the kill.
 */
class GroupCoordinatorFailoverIT {
    private static final String TOPIC = "events";
    private static final int PARTITIONS = 6;
    private static final int RECORDS = 600;
    private static final Duration STEP = Duration.ofSeconds(90);

    @Test
    @Timeout(300)
    void membersKeepTheirAssignmentsWhenTheCoordinatorIsKilled(@TempDir Path dir) throws Exception {
        try (TestCluster cluster = TestCluster.start(3, dir, Map.of("offsets.topic.num.partitions", "1",
                "group.initial.rebalance.delay.ms", "0"));
             Admin admin = cluster.admin()) {
            cluster.createTopic(TOPIC, PARTITIONS, (short) 3);
            List<Member> members = List.of(new Member("kip848", "consumer", null, cluster.bootstrap()),
                    new Member("kip848", "consumer", null, cluster.bootstrap()),
                    new Member("static", "classic", "static-0", cluster.bootstrap()),
                    new Member("static", "classic", "static-1", cluster.bootstrap()));
            members.forEach(Member::start);
            try {
                produce(cluster.bootstrap(), 0, RECORDS);
                awaitSettled(admin, members, RECORDS);
                Map<String, ConsumerGroupDescription> before = describe(admin);
                int coordinator = before.get("kip848").coordinator().id();
                assertThat(before.get("static").coordinator().id()).as("one offsets partition").isEqualTo(coordinator);
                Map<Member, Set<TopicPartition>> assigned = new HashMap<>();
                Map<Member, Integer> events = new HashMap<>();
                Map<Member, Integer> commits = new HashMap<>();
                Map<Member, Integer> failures = new HashMap<>();
                for (Member m : members) {
                    failures.put(m, m.failures.size());
                    assigned.put(m, m.assignment());
                    events.put(m, m.rebalances.size());
                    commits.put(m, m.commits.get());
                }

                System.out.printf("SIGKILL node %d, coordinating both groups; assignments %s%n", coordinator,
                        assigned.values());
                cluster.node(coordinator).kill();
                produce(cluster.bootstrap(), RECORDS, RECORDS);
                awaitConsumed(members, 2 * RECORDS);
                Map<String, ConsumerGroupDescription> after = awaitCoordinatorOtherThan(admin, coordinator);

                for (Member m : members) {
                    assertThat(m.rebalances.subList(events.get(m), m.rebalances.size()))
                            .as("rebalance callbacks of %s after the kill", m).isEmpty();
                    assertThat(m.assignment()).as("assignment of %s", m).isEqualTo(assigned.get(m));
                    assertThat(m.failures.subList(failures.get(m), m.failures.size()))
                            .as("failures of %s after the kill (before: %s)", m, m.failures).isEmpty();
                    assertThat(m.commits.get()).as("commits of %s after the kill", m).isGreaterThan(commits.get(m));
                }
                for (String group : List.of("kip848", "static")) {
                    assertThat(memberIds(after.get(group))).as("members of %s", group)
                            .isEqualTo(memberIds(before.get(group)));
                    assertThat(after.get(group).groupState()).isEqualTo(GroupState.STABLE);
                }
                Map<TopicPartition, Long> ends = Clients.endOffsets(cluster.bootstrap(), TOPIC, PARTITIONS);
                for (String group : List.of("kip848", "static")) {
                    Map<TopicPartition, Long> committed = new HashMap<>();
                    admin.listConsumerGroupOffsets(group).partitionsToOffsetAndMetadata().get(30, TimeUnit.SECONDS)
                            .forEach((tp, o) -> committed.put(tp, o.offset()));
                    assertThat(committed).as("%s's committed offsets: the end of every partition", group)
                            .isEqualTo(ends);
                }
            } finally {
                for (Member m : members) {
                    m.close();
                }
            }
        }
    }

    private static void produce(String bootstrap, int from, int count) throws Exception {
        try (KafkaProducer<String, String> producer = Clients.producer(bootstrap,
                Map.of(ProducerConfig.ACKS_CONFIG, "all"))) {
            List<java.util.concurrent.Future<?>> sent = new ArrayList<>();
            for (int i = from; i < from + count; i++) {
                sent.add(producer.send(new ProducerRecord<>(TOPIC, i % PARTITIONS, "k" + i, "v" + i)));
            }
            for (java.util.concurrent.Future<?> f : sent) {
                f.get(STEP.toSeconds(), TimeUnit.SECONDS);
            }
        }
    }

    /** Waits until both groups are Stable, every member owns 3 partitions and both groups read {@code records}. */
    private static void awaitSettled(Admin admin, List<Member> members, int records) throws Exception {
        long deadline = System.nanoTime() + STEP.toNanos();
        while (true) {
            Map<String, ConsumerGroupDescription> groups;
            try {
                groups = describe(admin);
            } catch (java.util.concurrent.ExecutionException e) {
                // a KIP-848 group exists once its first member's heartbeat created it: GroupIdNotFound before (as Kafka)
                assertThat(e.getCause()).isInstanceOf(org.apache.kafka.common.errors.GroupIdNotFoundException.class);
                groups = Map.of();
            }
            boolean stable = !groups.isEmpty() && groups.values().stream().allMatch(g -> g.groupState()
                    == GroupState.STABLE && g.members().size() == 2);
            boolean spread = members.stream().allMatch(m -> m.assignment().size() == PARTITIONS / 2);
            if (stable && spread && consumed(members, "kip848") >= records && consumed(members, "static") >= records) {
                return;
            }
            assertThat(System.nanoTime()).as("groups settled within %s: %s, members %s", STEP, groups, members)
                    .isLessThan(deadline);
            Thread.sleep(100);
        }
    }

    private static void awaitConsumed(List<Member> members, int records) throws InterruptedException {
        long deadline = System.nanoTime() + STEP.toNanos();
        while (consumed(members, "kip848") < records || consumed(members, "static") < records) {
            assertThat(System.nanoTime()).as("both groups read %d records within %s: %s", records, STEP, members)
                    .isLessThan(deadline);
            Thread.sleep(100);
        }
    }

    private static Map<String, ConsumerGroupDescription> awaitCoordinatorOtherThan(Admin admin, int killed)
            throws Exception {
        long deadline = System.nanoTime() + STEP.toNanos();
        while (true) {
            try {
                Map<String, ConsumerGroupDescription> groups = describe(admin);
                if (groups.values().stream().allMatch(g -> g.coordinator().id() != killed)) {
                    return groups;
                }
            } catch (java.util.concurrent.ExecutionException e) {
                // the coordinator is moving: ask again
            }
            assertThat(System.nanoTime()).as("a new coordinator within %s", STEP).isLessThan(deadline);
            Thread.sleep(100);
        }
    }

    private static int consumed(List<Member> members, String group) {
        return members.stream().filter(m -> m.group.equals(group)).mapToInt(m -> m.consumed.size()).sum();
    }

    private static Map<String, ConsumerGroupDescription> describe(Admin admin) throws Exception {
        return admin.describeConsumerGroups(List.of("kip848", "static")).all().get(30, TimeUnit.SECONDS);
    }

    private static Set<String> memberIds(ConsumerGroupDescription group) {
        Set<String> out = new TreeSet<>();
        group.members().stream().map(MemberDescription::consumerId).forEach(out::add);
        return out;
    }

    /**
     * One member polling on its own thread: it commits what it read after every poll and logs every call of its
     * rebalance listener.
     */
    private static final class Member implements ConsumerRebalanceListener {
        final String group;
        final String protocol;
        final String instanceId;
        final String bootstrap;
        final List<String> rebalances = new CopyOnWriteArrayList<>();
        final List<String> failures = new CopyOnWriteArrayList<>();
        /** Distinct records read (partition-offset); a record read twice after a rejoin counts once. */
        final Set<String> consumed = ConcurrentHashMap.newKeySet();
        /** Commits that succeeded. */
        final AtomicInteger commits = new AtomicInteger();
        private final Set<TopicPartition> owned = ConcurrentHashMap.newKeySet();
        private final AtomicBoolean running = new AtomicBoolean(true);
        private Thread thread;

        Member(String group, String protocol, String instanceId, String bootstrap) {
            this.group = group;
            this.protocol = protocol;
            this.instanceId = instanceId;
            this.bootstrap = bootstrap;
        }

        void start() {
            thread = new Thread(this::run, "member-" + group + "-" + (instanceId == null ? "dynamic" : instanceId));
            thread.start();
        }

        private void run() {
            Properties props = new Properties();
            props.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
            props.put(ConsumerConfig.GROUP_ID_CONFIG, group);
            props.put(ConsumerConfig.GROUP_PROTOCOL_CONFIG, protocol);
            props.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
            props.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
            props.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class.getName());
            props.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class.getName());
            if (instanceId != null) {
                props.put(ConsumerConfig.GROUP_INSTANCE_ID_CONFIG, instanceId);
            }
            try (KafkaConsumer<String, String> consumer = new KafkaConsumer<>(props)) {
                consumer.subscribe(List.of(TOPIC), this);
                while (running.get()) {
                    Map<TopicPartition, OffsetAndMetadata> next = new HashMap<>();
                    for (ConsumerRecord<String, String> r : consumer.poll(Duration.ofMillis(100))) {
                        consumed.add(r.partition() + "-" + r.offset());
                        next.put(new TopicPartition(r.topic(), r.partition()), new OffsetAndMetadata(r.offset() + 1));
                    }
                    if (!next.isEmpty()) {
                        try {
                            consumer.commitSync(next, STEP);
                            commits.incrementAndGet();
                        } catch (RuntimeException e) {
                            failures.add("commit: " + e);
                        }
                    }
                }
            } catch (RuntimeException e) {
                failures.add("poll: " + e);
            }
        }

        Set<TopicPartition> assignment() {
            return Set.copyOf(owned);
        }

        @Override
        public void onPartitionsAssigned(Collection<TopicPartition> partitions) {
            rebalances.add("assigned " + partitions);
            owned.addAll(partitions);
        }

        @Override
        public void onPartitionsRevoked(Collection<TopicPartition> partitions) {
            rebalances.add("revoked " + partitions);
            owned.removeAll(partitions);
        }

        @Override
        public void onPartitionsLost(Collection<TopicPartition> partitions) {
            rebalances.add("lost " + partitions);
            owned.removeAll(partitions);
        }

        void close() throws InterruptedException {
            running.set(false);
            if (thread != null) {
                thread.join(STEP.toMillis());
            }
        }

        @Override
        public String toString() {
            return group + "/" + (instanceId == null ? "dynamic" : instanceId) + " owns " + owned + ", read "
                    + consumed.size() + ", listener " + rebalances;
        }
    }
}
