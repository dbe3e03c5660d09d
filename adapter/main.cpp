#include "adapter/cli/cli.hpp"

int main(int argc, char** argv) { return helsebro::cli::run(argc, argv); }
