package io.fluxmq.admin;

import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * One partition, as the {@code raft} commands take it: {@code TOPIC -p P} or {@code --topic TOPIC --partition P}.
 */
final class PartitionAddress {
    @Parameters(paramLabel = "TOPIC", arity = "0..1", description = "the topic (or --topic)")
    String positionalTopic;

    @Option(names = {"-t", "--topic"}, paramLabel = "TOPIC", description = "the topic (or as the first argument)")
    String optionTopic;

    @Option(names = {"-p", "--partition"}, required = true, description = "the partition")
    int partition;

    /** The topic given one way or the other; a usage error when neither or both (different) are given. */
    String topic() {
        if (positionalTopic == null && optionTopic == null) {
            throw AdminException.usage("missing topic: give TOPIC or --topic TOPIC");
        }
        if (positionalTopic != null && optionTopic != null && !positionalTopic.equals(optionTopic)) {
            throw AdminException.usage("two topics given: " + positionalTopic + " and --topic " + optionTopic);
        }
        return optionTopic != null ? optionTopic : positionalTopic;
    }
}
