"""What every service stands on and the runtime plugs in: settings, the parts a service's bootstrap returns,
the request's unit of work, authentication, and problem+json errors. Below the services, above the event log."""
