// The walk over a JSON resource along the type model: every property resolved to its element,
// JSON kinds, cardinality, primitive values, bindings, references, nested resources and the FHIRPath
// invariants of each element (fhir/validate/invariants.hpp). One Walker
// per validation; it keeps scratch space between objects so that the walk allocates little.
#pragma once

#include <cstdint>
#include <set>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "fhir/fhirpath.hpp"
#include "fhir/json.hpp"
#include "fhir/model/model.hpp"
#include "fhir/validate.hpp"
#include "fhir/validate/primitives.hpp"
#include "fhir/validate/reporter.hpp"

namespace helsebro::fhir::validation {

class InvariantSet;

class Walker {
public:
    // `invariants`, when given, collects the invariants of the elements met that cannot be evaluated, and
    // no invariant is evaluated.
    Walker(Reporter& r, const ValidationOptions& options, std::vector<InvariantUse>* invariants = nullptr)
        : r_(r), options_(options), invariants_(invariants) {}

    void root(const json::Value& resource);

private:
    // One element of an object: its value and/or its primitive extension (`_name`).
    struct Slot {
        const json::Value* value = nullptr;
        const json::Value* ext = nullptr;
        std::string_view json_name;
        std::string_view type;
        const model::TypeRef* ref = nullptr;
    };
    struct TypeInfo {
        enum class Kind : unsigned char { primitive, complex, resource } kind = Kind::complex;
        Primitive primitive = Primitive::string;
    };
    struct Contained {
        std::string_view id, type;
        std::string path;
        bool refers_to_container = false;
    };
    struct LocalReference {
        std::string_view id;
        std::span<const std::string_view> targets;
        std::string path;
    };
    // One resource being walked; contained resources resolve "#id" against their container's list.
    struct Frame {
        Frame* parent = nullptr;
        bool contained = false;
        std::vector<Contained> contained_list;
        std::vector<std::string_view> hash_references;  // ids of the "#id" values met (for dom-3)
        bool refers_to_container = false;               // a "#" reference met (for dom-3)
        std::vector<LocalReference> local_references;   // a root's, its contained ones' included (ref-1)
        // A Bundle's entries by fullUrl (their resource types), to tell what urn:uuid references point to.
        const std::unordered_map<std::string_view, std::string_view>* full_urls = nullptr;
        // %resource is this resource; %rootResource its container when it is contained, else itself.
        fhirpath::Environment environment;
    };

    void resource(const json::Value& v, bool contained);
    void finish_contained(const json::Value& v, Frame& f);
    void finish_root(Frame& f);
    void members(const json::Value& object, std::string_view children_key, bool is_resource);
    void element(const model::Element& e, const Slot& s);
    void single(const model::Element& e, const Slot& s, TypeInfo t, const json::Value* v, const json::Value* ext);
    void primitive(const model::Element& e, Primitive p, const json::Value& v);
    void primitive_extension(const json::Value& ext, bool has_value);
    void complex(const model::Element& e, const Slot& s, const json::Value& v);
    void reference(const json::Value& v, std::span<const std::string_view> targets);
    std::string_view bundle_entry_type(std::string_view full_url) const;
    void coded(const model::Element& e, std::string_view type, const json::Value& v);
    void extension(const json::Value& v);
    void parameter(const json::Value& v);
    void collect(const model::Element& e);
    void element_invariants(const model::Element& e, const Slot& s, TypeInfo t, const json::Value* v,
                            const json::Value* ext);
    void evaluate(const model::Element& e, const fhirpath::Node& node);
    void evaluate(const InvariantSet& set, const fhirpath::Node& node);
    TypeInfo classify(const model::Element& e, std::string_view type) const;

    Reporter& r_;
    const ValidationOptions& options_;
    std::vector<InvariantUse>* invariants_;
    std::set<std::pair<std::string_view, std::string_view>> seen_invariants_;
    Frame* frame_ = nullptr;
    std::vector<Slot> slots_;           // per object: one per child element, a stack across the recursion
    std::vector<std::uint32_t> order_;  // per object: the children in order of appearance
    std::size_t depth_ = 0;
};

}  // namespace helsebro::fhir::validation
