// A stored request as the mapping rules see it: a message Bundle, or each resource a REST write
// stored (with its transaction), plus the patients it is about.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "adapter/mapping/mapping.hpp"
#include "adapter/store/store.hpp"

namespace helsebro::processing {

struct StoredInputs {
    std::vector<std::unique_ptr<fhir::json::Value>> owned;  // what the inputs point into
    std::vector<mapping::Input> inputs;
    // Every fødselsnummer/D-nummer the request mentions: the patients whose order it takes part in.
    std::vector<mapping::PatientKey> patients;
    // Resources the request stored and the patients they belong to, to link them as patient data.
    struct Link {
        std::string type, id;
        mapping::PatientKey patient;
    };
    std::vector<Link> links;
    std::string error;  // the stored request cannot be read back (never expected: it was accepted)
};

StoredInputs inputs_of(const store::Store& store, const store::InboxEntry& entry);

}  // namespace helsebro::processing
