/*
 * CFixtureDriver declares nothing public: its only interface is the exported
 * mix2api_driver_entry of mix2api_driver.h. SwiftPM wants an include/ directory for a C target,
 * and this header keeps it from being empty.
 */
#ifndef CFIXTURE_H
#define CFIXTURE_H
#endif
