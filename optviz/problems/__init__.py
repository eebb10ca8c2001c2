"""Problems the engine optimises: analytic test functions (and, later, a linear model)."""
