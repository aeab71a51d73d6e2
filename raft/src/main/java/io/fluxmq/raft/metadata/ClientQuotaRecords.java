package io.fluxmq.raft.metadata;

import java.io.DataInput;
import java.io.DataOutput;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.kafka.common.quota.ClientQuotaEntity;

/**
 * The encoding of client quotas in metadata commands and snapshots. An entity: {@code count:int32} then per component
 * {@code type UTF | default:bool | name UTF (absent for a default)}, a default being Kafka's default entity ({@code null}
 * name: {@code <default>} in its tools). Quota values: {@code count:int32} then {@code key UTF | value float64}. An
 * alteration: entity, the values it sets, then the keys it removes as {@code count:int32 | key UTF*}. A snapshot's
 * quotas: {@code count:int32} then per entity the entity and its values. Stateless.
 */
public final class ClientQuotaRecords {
    private ClientQuotaRecords() {
    }

    /**
     * An entity safe to keep in metadata: its components copied into an unmodifiable map (a {@code null} name is the
     * default entity, as in kafka-clients; {@link Map#copyOf} would refuse it).
     */
    public static ClientQuotaEntity entity(Map<String, String> components) {
        return new ClientQuotaEntity(Collections.unmodifiableMap(new HashMap<>(components)));
    }

    static void writeEntity(DataOutput out, ClientQuotaEntity entity) throws IOException {
        out.writeInt(entity.entries().size());
        for (Map.Entry<String, String> c : entity.entries().entrySet()) {
            out.writeUTF(c.getKey());
            out.writeBoolean(c.getValue() == null);
            if (c.getValue() != null) {
                out.writeUTF(c.getValue());
            }
        }
    }

    static ClientQuotaEntity readEntity(DataInput in) throws IOException {
        int n = in.readInt();
        if (n < 0 || n > 3) {
            throw new IOException("client quota entity of " + n + " components");
        }
        Map<String, String> components = new HashMap<>();
        for (int i = 0; i < n; i++) {
            String type = in.readUTF();
            components.put(type, in.readBoolean() ? null : in.readUTF());
        }
        return entity(components);
    }

    static void writeValues(DataOutput out, Map<String, Double> values) throws IOException {
        out.writeInt(values.size());
        for (Map.Entry<String, Double> v : values.entrySet()) {
            out.writeUTF(v.getKey());
            out.writeDouble(v.getValue());
        }
    }

    static Map<String, Double> readValues(DataInput in) throws IOException {
        int n = in.readInt();
        Map<String, Double> values = new LinkedHashMap<>();
        for (int i = 0; i < n; i++) {
            values.put(in.readUTF(), in.readDouble());
        }
        return values;
    }

    static void writeAlterations(DataOutput out, List<MetadataCommand.QuotaAlteration> alterations)
            throws IOException {
        out.writeInt(alterations.size());
        for (MetadataCommand.QuotaAlteration a : alterations) {
            writeEntity(out, a.entity());
            writeValues(out, a.set());
            out.writeInt(a.remove().size());
            for (String key : a.remove()) {
                out.writeUTF(key);
            }
        }
    }

    static List<MetadataCommand.QuotaAlteration> readAlterations(DataInput in) throws IOException {
        int n = in.readInt();
        List<MetadataCommand.QuotaAlteration> out = new ArrayList<>(Math.min(n, 1024));
        for (int i = 0; i < n; i++) {
            ClientQuotaEntity entity = readEntity(in);
            Map<String, Double> set = readValues(in);
            int r = in.readInt();
            List<String> remove = new ArrayList<>(Math.min(r, 16));
            for (int j = 0; j < r; j++) {
                remove.add(in.readUTF());
            }
            out.add(new MetadataCommand.QuotaAlteration(entity, set, remove));
        }
        return out;
    }

    static void writeQuotas(DataOutput out, Map<ClientQuotaEntity, Map<String, Double>> quotas) throws IOException {
        out.writeInt(quotas.size());
        for (Map.Entry<ClientQuotaEntity, Map<String, Double>> e : quotas.entrySet()) {
            writeEntity(out, e.getKey());
            writeValues(out, e.getValue());
        }
    }

    static Map<ClientQuotaEntity, Map<String, Double>> readQuotas(DataInput in) throws IOException {
        int n = in.readInt();
        Map<ClientQuotaEntity, Map<String, Double>> quotas = new HashMap<>();
        for (int i = 0; i < n; i++) {
            quotas.put(readEntity(in), Map.copyOf(readValues(in)));
        }
        return quotas;
    }
}
