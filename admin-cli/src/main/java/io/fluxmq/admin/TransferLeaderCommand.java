package io.fluxmq.admin;

import io.fluxmq.control.v1.TransferLeaderReply;
import io.fluxmq.control.v1.TransferLeaderRequest;
import java.util.LinkedHashMap;
import java.util.Map;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code fluxmq-admin partition transfer-leader TOPIC --partition N --to NODE}: moves the partition's leadership to
 * any in-sync replica with a Raft leadership transfer (RaftControl.TransferLeader). The new leader is pinned: the
 * automatic preferred-leader balancing leaves it there while that leadership lasts (until the next transfer of the
 * partition, for example {@code leaders balance}, an election it loses, or a restart of that node). Exit 0 when the node leads (also when it already did), 1 when
 * the transfer was refused or failed.
 */
@Command(name = "transfer-leader", mixinStandardHelpOptions = true,
        description = "Move a partition's leadership to an in-sync replica (Raft leadership transfer).")
final class TransferLeaderCommand extends AdminCommand {
    @Parameters(paramLabel = "TOPIC")
    String topic;

    @Option(names = {"-p", "--partition"}, required = true, description = "the partition")
    int partition;

    @Option(names = "--to", required = true, paramLabel = "NODE", description = "node id of the new leader")
    int target;

    @Override
    int execute() {
        TransferLeaderReply reply = RaftControlClient.transferLeader(connection,
                TransferLeaderRequest.newBuilder().setTopic(topic).setPartition(partition)
                        .setTargetNode(target).setPin(true).build());
        String tp = topic + "-" + partition;
        String outcome = switch (reply.getStatus()) {
            case STATUS_TRANSFERRED -> "leadership of " + tp + " moved to node " + target;
            case STATUS_ALREADY_LEADER -> "node " + target + " already leads " + tp;
            default -> null;
        };
        Map<String, Object> json = new LinkedHashMap<>();
        json.put("topic", topic);
        json.put("partition", partition);
        json.put("target", target);
        json.put("status", reply.getStatus().name().replace("STATUS_", ""));
        json.put("leader", reply.getLeader() < 0 ? null : reply.getLeader());
        json.put("message", reply.getMessage().isEmpty() ? null : reply.getMessage());
        if (outcome == null) {
            if (connection.json()) {
                print("", json);
            }
            throw AdminException.failed("transfer of " + tp + " to node " + target + " failed: "
                    + reply.getStatus().name().replace("STATUS_", "") + (reply.getMessage().isEmpty() ? ""
                    : " (" + reply.getMessage() + ")") + hint(reply.getStatus()));
        }
        print(outcome + "\n", json);
        return 0;
    }

    private static String hint(TransferLeaderReply.Status status) {
        return switch (status) {
            case STATUS_TARGET_NOT_IN_SYNC -> "; `fluxmq-admin raft status` shows each replica's lag";
            case STATUS_NOT_A_REPLICA -> "; `fluxmq-admin partition describe` lists the replicas";
            case STATUS_NO_LEADER, STATUS_FAILED -> "; try again in a few seconds";
            default -> "";
        };
    }
}
