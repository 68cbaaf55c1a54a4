package dev.jvmm.kvm.testing;

import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * A test that needs a real arm64 /dev/kvm (the kvm tier). Outside an arm64 KVM host it is skipped
 * with a one-line reason; inside the lab (JVMM_REQUIRE_KVM=1) it never skips, so a broken KVM
 * fails.
 */
@Target({ElementType.TYPE, ElementType.METHOD})
@Retention(RetentionPolicy.RUNTIME)
@Tag("kvm")
@ExtendWith(Arm64KvmCondition.class)
public @interface KvmTest {}
