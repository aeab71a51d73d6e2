package io.fluxmq.node;

import io.fluxmq.kafka.security.ScramCredentials;
import io.fluxmq.raft.metadata.ClusterState;
import io.fluxmq.raft.metadata.ScramCredentialRecord;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.kafka.clients.admin.ScramCredentialInfo;
import org.apache.kafka.common.security.scram.ScramCredential;

/**
 * The SCRAM credentials of this node's copy of the cluster metadata, indexed for authentication (Kafka's
 * {@code CredentialCache}): by mechanism name, then user. Rebuilt on the metadata apply thread only when the
 * credentials changed; read lock-free by every authentication, so an applied change is used by the next connection.
 */
final class MetadataScramCredentials implements ScramCredentials {
    private volatile Map<String, Map<String, ScramCredential>> byMechanism = Map.of();
    private volatile Map<ScramCredentialRecord.Key, ScramCredentialRecord> indexed = Map.of();

    /** A metadata listener: runs on the apply thread, does nothing unless the credentials changed. */
    void onMetadata(ClusterState state) {
        Map<ScramCredentialRecord.Key, ScramCredentialRecord> credentials = state.scramCredentials();
        if (credentials == indexed) { // ClusterState keeps the same map until the credentials change
            return;
        }
        Map<String, Map<String, ScramCredential>> index = new HashMap<>();
        for (ScramCredentialRecord r : credentials.values()) {
            index.computeIfAbsent(r.mechanism().mechanismName(), m -> new HashMap<>())
                    .put(r.user(), new ScramCredential(r.salt(), r.storedKey(), r.serverKey(), r.iterations()));
        }
        Map<String, Map<String, ScramCredential>> frozen = new HashMap<>();
        index.forEach((mechanism, users) -> frozen.put(mechanism, Map.copyOf(users)));
        byMechanism = Map.copyOf(frozen);
        indexed = credentials;
    }

    @Override
    public ScramCredential credential(String mechanism, String user) {
        Map<String, ScramCredential> users = byMechanism.get(mechanism);
        return users == null ? null : users.get(user);
    }

    /** Each user with a credential, with its mechanisms (in Kafka's type order) and iterations. */
    static Map<String, List<ScramCredentialInfo>> describe(ClusterState state) {
        Map<String, List<ScramCredentialInfo>> out = new HashMap<>();
        for (ScramCredentialRecord r : state.scramCredentials().values()) {
            out.computeIfAbsent(r.user(), u -> new ArrayList<>())
                    .add(new ScramCredentialInfo(r.mechanism(), r.iterations()));
        }
        out.values().forEach(infos -> infos.sort(Comparator.comparing(i -> i.mechanism().type())));
        return out;
    }
}
