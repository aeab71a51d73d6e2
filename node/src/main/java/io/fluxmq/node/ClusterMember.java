package io.fluxmq.node;

import java.util.ArrayList;
import java.util.List;

/**
 * One node of the static cluster membership: {@code id@host:kafkaPort:raftPort[:httpPort[:controlPort]]}; the HTTP
 * port (health, replica catch-up) defaults to the Raft port + 200, the gRPC control port to the Raft port + 100.
 */
public record ClusterMember(int id, String host, int kafkaPort, int raftPort, int httpPort, int controlPort) {
    static final int CONTROL_PORT_OFFSET = 100;
    static final int HTTP_PORT_OFFSET = 200;
    /** The multi-Raft transport's port is the Raft port + this ({@code partition.engine=multiraft}). */
    static final int ENGINE_PORT_OFFSET = 300;

    /** Parses {@code cluster.nodes}: comma-separated {@code id@host:kafkaPort:raftPort[:httpPort[:controlPort]]}. */
    static List<ClusterMember> parseList(String value) {
        List<ClusterMember> out = new ArrayList<>();
        for (String item : value.split(",")) {
            String s = item.trim();
            if (s.isEmpty()) {
                continue;
            }
            int at = s.indexOf('@');
            String[] hostPorts = at < 0 ? new String[0] : s.substring(at + 1).split(":");
            if (at <= 0 || hostPorts.length < 3 || hostPorts.length > 5) {
                throw new NodeConfig.ConfigException("cluster.nodes entry '" + s
                        + "' is not id@host:kafkaPort:raftPort[:httpPort[:controlPort]]");
            }
            try {
                int raft = Integer.parseInt(hostPorts[2]);
                out.add(new ClusterMember(Integer.parseInt(s.substring(0, at)), hostPorts[0],
                        Integer.parseInt(hostPorts[1]), raft,
                        hostPorts.length >= 4 ? Integer.parseInt(hostPorts[3]) : raft + HTTP_PORT_OFFSET,
                        hostPorts.length == 5 ? Integer.parseInt(hostPorts[4]) : raft + CONTROL_PORT_OFFSET));
            } catch (NumberFormatException e) {
                throw new NodeConfig.ConfigException("cluster.nodes entry '" + s + "' has a non-numeric id or port");
            }
        }
        if (out.stream().map(ClusterMember::id).distinct().count() != out.size()) {
            throw new NodeConfig.ConfigException("cluster.nodes lists a node id twice: " + value);
        }
        return out;
    }

    /** The gRPC control address, {@code host:controlPort}. */
    public String controlAddress() {
        return host + ":" + controlPort;
    }

    /** Without the control port, so the cluster id derived from cluster.nodes is what it was before that port. */
    @Override
    public String toString() {
        return id + "@" + host + ":" + kafkaPort + ":" + raftPort + ":" + httpPort;
    }
}
