#include "fhir/validate/invariants.hpp"

#include <memory>
#include <mutex>
#include <optional>
#include <unordered_map>
#include <vector>

#include "fhir/validate.hpp"

namespace helsebro::fhir::validation {

struct InvariantSet::Slot {
    bool native = false;
    std::once_flag once;
    std::optional<fhirpath::Expression> expression;
};

namespace {

using model::Element;

// R4 expressions that contradict their own rule, replaced by the corrected expression of a later official
// publication or of the HL7 validator (org.hl7.fhir.validation FHIRPathExpressionFixer), which applies the
// same corrections. Matched on the exact published text, so a definition that differs is left alone.
struct Erratum {
    std::string_view key;  // empty: wherever the expression is published
    std::string_view published;
    std::string_view corrected;
};
constexpr Erratum errata[] = {
    // A FHIR boolean is no System.Boolean (the FHIRPath suite: Patient.active.is(Boolean) is false), so
    // every enableWhen with operator 'exists' failed. R4B (4.3.0) tests the FHIR type.
    {"que-7", "operator = 'exists' implies (answer is Boolean)", "operator = 'exists' implies (answer is boolean)"},
    // Empty, so failing, on a prediction without a probability. As R4B and the HL7 validator.
    {"ras-2", "probability is decimal implies (probability as decimal) <= 100",
     "probability.exists($this is decimal) implies (probability as decimal) <= 100"},
    // The rule says "more than one enableWhen". As R4B and the HL7 validator.
    {"que-12", "enableWhen.count() > 2 implies enableBehavior.exists()",
     "enableWhen.count() > 1 implies enableBehavior.exists()"},
    // Empty, so failing, on the 30 canonical resources without a name, which all allow that. As R4B.
    {{}, "name.matches('[A-Z]([A-Za-z0-9_]){0,254}')",
     "name.exists() implies name.matches('[A-Z]([A-Za-z0-9_]){0,254}')"},
    // A contained resource is rendered in its container's narrative; the HL7 validator asks only the
    // resource that is its own %rootResource (a top resource, a Bundle entry's) for narrative.
    {"dom-6", "text.`div`.exists()", "(%rootResource != $this) or text.`div`.exists()"},
};

std::string_view corrected(const model::Invariant& inv) {
    for (const Erratum& e : errata) {
        if ((e.key.empty() || e.key == inv.key) && e.published == inv.expression) return e.corrected;
    }
    return inv.expression;
}

bool is_inline(const Element& e) {
    return e.types.size() == 1 && (e.types.front() == "BackboneElement" || e.types.front() == "Element");
}

// Every element the walker can meet, found once: the sets are immutable afterwards, so lookups need no
// lock; only the compilation of each expression is deferred (std::call_once).
class Table {
public:
    Table() {
        for (const model::TypeDef& t : model::types()) {
            add(*t.root, t.name);
            add_children(t.name);
        }
    }

    const InvariantSet* find(const Element& e) const {
        const auto it = sets_.find(&e);
        return it == sets_.end() ? nullptr : &it->second;
    }

private:
    std::vector<std::unique_ptr<InvariantSet::Slot[]>> slots_;
    std::unordered_map<const Element*, InvariantSet> sets_;

    void add_children(std::string_view parent) {
        for (const Element& e : model::children(parent)) {
            if (!e.content_reference.empty()) {
                // Its children are the referenced element's; so is its context.
                add(e, e.content_reference.substr(1));
            } else if (is_inline(e)) {
                add(e, e.path);
                add_children(e.path);
            } else if (e.types.size() == 1 && !e.types.front().starts_with("System.")) {
                add(e, e.types.front());
            } else {
                add(e, {});  // a choice: the type is only known per value, so nothing is checked statically
            }
        }
    }

    void add(const Element& e, std::string_view context_type) {
        if (sets_.count(&e) != 0) return;
        bool any = false;
        for (const model::Invariant& inv : e.invariants) any = any || !is_checked_invariant(e.path, inv.key);
        if (!any) return;
        auto slots = std::make_unique<InvariantSet::Slot[]>(e.invariants.size());
        for (std::size_t i = 0; i < e.invariants.size(); ++i) {
            slots[i].native = is_checked_invariant(e.path, e.invariants[i].key);
        }
        sets_.emplace(&e, InvariantSet(e, context_type, slots.get()));
        slots_.push_back(std::move(slots));
    }
};

const Table& table() {
    static const Table t;
    return t;
}

}  // namespace

bool InvariantSet::native(std::size_t i) const { return slots_[i].native; }

const fhirpath::Expression* InvariantSet::expression(std::size_t i) const {
    Slot& slot = slots_[i];
    if (slot.native) return nullptr;
    std::call_once(slot.once, [&] {
        fhirpath::CompileOptions options;
        options.context_type = context_type_;
        auto compiled = fhirpath::compile(corrected(element_->invariants[i]), options);
        if (compiled.expression) slot.expression.emplace(std::move(*compiled.expression));
    });
    return slot.expression ? &*slot.expression : nullptr;
}

const InvariantSet* invariant_set(const Element& element) {
    // Most elements carry only ele-1, which is checked natively: no need to look them up.
    if (element.invariants.empty() || (element.invariants.size() == 1 && element.invariants.front().key == "ele-1")) {
        return nullptr;
    }
    return table().find(element);
}

}  // namespace helsebro::fhir::validation
