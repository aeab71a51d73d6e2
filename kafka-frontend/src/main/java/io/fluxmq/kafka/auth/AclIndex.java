package io.fluxmq.kafka.auth;

import java.util.ArrayList;
import java.util.Collection;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import org.apache.kafka.common.acl.AclBinding;
import org.apache.kafka.common.resource.PatternType;
import org.apache.kafka.common.resource.ResourcePattern;
import org.apache.kafka.common.resource.ResourceType;
import org.apache.kafka.common.security.auth.KafkaPrincipal;
import org.apache.kafka.common.utils.SecurityUtils;

/**
 * The ACL bindings by resource, so a check looks up the bindings that can match one resource name instead of
 * scanning all: per resource type, literal bindings by name (the wildcard {@code *} among them) and prefixed bindings
 * by prefix, with the distinct prefix lengths, so a name is matched with one map lookup per prefix length. Immutable,
 * hence thread-safe; a new index is built when the ACLs change.
 */
final class AclIndex {
    static final AclIndex EMPTY = new AclIndex(List.of());

    /** A binding with its principal parsed once. */
    record Entry(AclBinding binding, KafkaPrincipal principal) {
    }

    private final Map<ResourceType, Map<String, List<Entry>>> literal = new EnumMap<>(ResourceType.class);
    private final Map<ResourceType, Map<String, List<Entry>>> prefixed = new EnumMap<>(ResourceType.class);
    private final Map<ResourceType, int[]> prefixLengths = new EnumMap<>(ResourceType.class);
    private final List<Entry> all = new ArrayList<>();

    AclIndex(Collection<AclBinding> bindings) {
        Map<ResourceType, TreeSet<Integer>> lengths = new EnumMap<>(ResourceType.class);
        for (AclBinding b : bindings) {
            Entry e = new Entry(b, SecurityUtils.parseKafkaPrincipal(b.entry().principal()));
            all.add(e);
            ResourcePattern p = b.pattern();
            if (p.patternType() == PatternType.PREFIXED) {
                prefixed.computeIfAbsent(p.resourceType(), t -> new HashMap<>())
                        .computeIfAbsent(p.name(), n -> new ArrayList<>()).add(e);
                lengths.computeIfAbsent(p.resourceType(), t -> new TreeSet<>()).add(p.name().length());
            } else if (p.patternType() == PatternType.LITERAL) {
                literal.computeIfAbsent(p.resourceType(), t -> new HashMap<>())
                        .computeIfAbsent(p.name(), n -> new ArrayList<>()).add(e);
            }
        }
        lengths.forEach((type, set) -> prefixLengths.put(type, set.stream().mapToInt(Integer::intValue).toArray()));
    }

    /** Every binding whose pattern matches the resource: literal name, literal wildcard, prefixes of the name. */
    List<Entry> matching(ResourceType type, String name) {
        List<Entry> out = new ArrayList<>();
        Map<String, List<Entry>> lit = literal.get(type);
        if (lit != null) {
            out.addAll(lit.getOrDefault(name, List.of()));
            if (!name.equals(ResourcePattern.WILDCARD_RESOURCE)) {
                out.addAll(lit.getOrDefault(ResourcePattern.WILDCARD_RESOURCE, List.of()));
            }
        }
        int[] lengths = prefixLengths.get(type);
        if (lengths != null) {
            Map<String, List<Entry>> pre = prefixed.get(type);
            for (int length : lengths) {
                if (length > name.length()) {
                    break;
                }
                List<Entry> found = pre.get(name.substring(0, length));
                if (found != null) {
                    out.addAll(found);
                }
            }
        }
        return out;
    }

    /** Every binding of a resource type (Kafka's authorizeByResourceType looks at all of them). */
    List<Entry> ofType(ResourceType type) {
        return all.stream().filter(e -> e.binding().pattern().resourceType() == type).toList();
    }
}
