package io.fluxmq.raft.metadata;

import java.io.DataInput;
import java.io.DataOutput;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import org.apache.kafka.common.acl.AccessControlEntry;
import org.apache.kafka.common.acl.AclBinding;
import org.apache.kafka.common.acl.AclOperation;
import org.apache.kafka.common.acl.AclPermissionType;
import org.apache.kafka.common.resource.PatternType;
import org.apache.kafka.common.resource.ResourcePattern;
import org.apache.kafka.common.resource.ResourceType;

/**
 * The encoding of ACL bindings in metadata commands and snapshots. A list: {@code count:int32} then per binding
 * {@code resourceType:int8 | name UTF | patternType:int8 | principal UTF | host UTF | operation:int8 |
 * permission:int8}, the codes being kafka-clients' ({@link ResourceType#code()}, {@link PatternType#code()},
 * {@link AclOperation#code()}, {@link AclPermissionType#code()}). Stateless.
 */
final class AclRecords {
    private AclRecords() {
    }

    static void write(DataOutput out, Collection<AclBinding> acls) throws IOException {
        out.writeInt(acls.size());
        for (AclBinding b : acls) {
            out.writeByte(b.pattern().resourceType().code());
            out.writeUTF(b.pattern().name());
            out.writeByte(b.pattern().patternType().code());
            out.writeUTF(b.entry().principal());
            out.writeUTF(b.entry().host());
            out.writeByte(b.entry().operation().code());
            out.writeByte(b.entry().permissionType().code());
        }
    }

    static List<AclBinding> read(DataInput in) throws IOException {
        int n = in.readInt();
        List<AclBinding> acls = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            ResourcePattern pattern = new ResourcePattern(ResourceType.fromCode(in.readByte()), in.readUTF(),
                    PatternType.fromCode(in.readByte()));
            AccessControlEntry entry = new AccessControlEntry(in.readUTF(), in.readUTF(),
                    AclOperation.fromCode(in.readByte()), AclPermissionType.fromCode(in.readByte()));
            AclBinding binding = new AclBinding(pattern, entry);
            if (binding.isUnknown()) {
                throw new IOException("ACL binding with unknown elements: " + binding);
            }
            acls.add(binding);
        }
        return acls;
    }
}
